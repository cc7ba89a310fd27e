//! The DICOM upper-layer reader as the SCP runs it on a peer's bytes: PDU headers, P-DATA
//! items one by one, whole control PDUs; association requests are negotiated, command sets
//! parsed and data sets checked against the command like a C-STORE.
#![no_main]

use std::sync::LazyLock;

use dicom_ul::Pdu;
use dicom_ul::pdu::PDataValueType;
use libfuzzer_sys::fuzz_target;
use renkei_dicom::scp::command::Command;
use renkei_dicom::scp::{ScpConfig, negotiate, part10, pdu};

static CONFIG: LazyLock<ScpConfig> = LazyLock::new(ScpConfig::default);
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
});

/// A small maximum PDU length, so that P-DATA limits are reached too.
const MAX_PDU_LENGTH: u32 = 16 * 1024;

async fn association(mut stream: &[u8]) {
    let mut command: Option<Command> = None;
    let mut command_bytes = Vec::new();
    let mut data_set = Vec::new();
    for _ in 0..64 {
        let Ok(header) = pdu::read_header(&mut stream, MAX_PDU_LENGTH).await else {
            return;
        };
        if !header.is_pdata() {
            match pdu::read_body(&mut stream, header).await {
                Ok(Pdu::AssociationRQ(request)) => {
                    if negotiate::precheck(&request, &CONFIG).is_ok() {
                        let negotiated = negotiate::negotiate(&request, &CONFIG);
                        let mut answer = Vec::new();
                        let accept = Pdu::AssociationAC(negotiated.accept);
                        let _ = dicom_ul::write_pdu(&mut answer, &accept);
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
            continue;
        }
        let mut left = header.length;
        while left > 0 {
            let Ok(item) = pdu::read_item(&mut stream, left).await else {
                return;
            };
            left -= item.size();
            let length = item.data_length as usize;
            match item.value_type {
                PDataValueType::Command => {
                    if pdu::read_into(&mut stream, &mut command_bytes, length)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    if item.is_last {
                        command = Command::parse(&command_bytes).ok();
                        command_bytes.clear();
                        data_set.clear();
                    }
                }
                PDataValueType::Data => {
                    if pdu::read_into(&mut stream, &mut data_set, length)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    if item.is_last {
                        store(command.take(), &data_set);
                        data_set.clear();
                    }
                }
            }
        }
    }
}

/// What a C-STORE does with a complete data set before handing it on.
fn store(command: Option<Command>, data_set: &[u8]) {
    let Some(command) = command else { return };
    let class = command.affected_sop_class_uid.unwrap_or_default();
    let instance = command.affected_sop_instance_uid.unwrap_or_default();
    let Ok(mut file) = part10::file_prefix(&class, &instance, "1.2.840.10008.1.2.1", "FUZZ") else {
        return;
    };
    file.extend_from_slice(data_set);
    let _ = part10::check_identity(&file, &class, &instance);
}

fuzz_target!(|data: &[u8]| {
    RUNTIME.block_on(association(data));
    let _ = pdu::decode(data, MAX_PDU_LENGTH);
});
