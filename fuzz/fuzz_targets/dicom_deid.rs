//! De-identification of a received Part 10 file under the organization's options (the first
//! byte chooses them); what it writes must parse again and pass the de-identified check, as a
//! gateway's output does on the server.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_dicom::prepare::{accept_deidentified, prepare};
use renkei_dicom::{DateMode, DeidContext};

fuzz_target!(|data: &[u8]| {
    let Some((&options, file)) = data.split_first() else {
        return;
    };
    let mut ctx = DeidContext::new([0x5A; 32]);
    ctx.patient_id_digits = options & 0x07;
    ctx.retain_dates = match (options >> 3) & 0x03 {
        0 => DateMode::Remove,
        1 => DateMode::Keep,
        _ => DateMode::ShiftPerPatient,
    };
    ctx.retain_patient_characteristics = options & 0x20 != 0;
    ctx.clean_descriptors = options & 0x40 != 0;
    if let Ok(prepared) = prepare(file.to_vec(), &ctx) {
        let _ = accept_deidentified(prepared.bytes.into_vec(), ctx.patient_id_digits);
    }
});
