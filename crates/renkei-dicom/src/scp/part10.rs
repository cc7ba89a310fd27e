//! Part 10 files from received data sets: the file meta group we write in front, and the check
//! that the data set is the instance the C-STORE request announced.

use dicom_core::Tag;
use dicom_object::OpenFileOptions;
use dicom_object::file::ReadPreamble;
use dicom_object::meta::FileMetaTableBuilder;

use super::negotiate::{IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME};
use super::sink::StoreFailure;

const SOP_CLASS_UID: Tag = Tag(0x0008, 0x0016);
const SOP_INSTANCE_UID: Tag = Tag(0x0008, 0x0018);
/// Reading stops at the first element after SOP Instance UID: the pixel data is never parsed.
const READ_UNTIL: Tag = Tag(0x0008, 0x0019);

/// Preamble, `DICM` and the file meta group for one instance; the data set is appended to it
/// as it arrives.
pub fn file_prefix(
    sop_class_uid: &str,
    sop_instance_uid: &str,
    transfer_syntax_uid: &str,
    calling_ae: &str,
) -> Result<Vec<u8>, StoreFailure> {
    let mut builder = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(sop_class_uid)
        .media_storage_sop_instance_uid(sop_instance_uid)
        .transfer_syntax(transfer_syntax_uid)
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name(IMPLEMENTATION_VERSION_NAME);
    if !calling_ae.is_empty() {
        builder = builder.source_application_entity_title(calling_ae);
    }
    let meta = builder
        .build()
        .map_err(|_| StoreFailure::cannot_understand("cannot build the file meta group"))?;
    let mut prefix = Vec::with_capacity(512);
    prefix.extend_from_slice(&[0u8; 128]);
    prefix.extend_from_slice(b"DICM");
    meta.write(&mut prefix)
        .map_err(|_| StoreFailure::cannot_understand("cannot write the file meta group"))?;
    Ok(prefix)
}

/// Checks that the data set of `file` starts well and carries the expected SOP Class and
/// Instance UIDs; only the elements up to (0008,0018) are parsed.
pub fn check_identity(
    file: &[u8],
    sop_class_uid: &str,
    sop_instance_uid: &str,
) -> Result<(), StoreFailure> {
    let object = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Always)
        .read_until(READ_UNTIL)
        .from_reader(file)
        .map_err(|_| StoreFailure::cannot_understand("the data set cannot be parsed"))?;
    let text = |tag: Tag| {
        object
            .get(tag)
            .and_then(|element| element.value().to_str().ok())
            .map(|value| value.trim_matches(['\0', ' ']).to_string())
    };
    match text(SOP_CLASS_UID) {
        Some(found) if found == sop_class_uid => {}
        Some(_) => {
            return Err(StoreFailure::does_not_match(
                "SOP Class UID differs from the request",
            ));
        }
        None => {
            return Err(StoreFailure::does_not_match(
                "the data set has no SOP Class UID",
            ));
        }
    }
    match text(SOP_INSTANCE_UID) {
        Some(found) if found == sop_instance_uid => Ok(()),
        Some(_) => Err(StoreFailure::does_not_match(
            "SOP Instance UID differs from the request",
        )),
        None => Err(StoreFailure::does_not_match(
            "the data set has no SOP Instance UID",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scp::config::EXPLICIT_VR_LITTLE_ENDIAN;

    const CT: &str = "1.2.840.10008.5.1.4.1.1.2";

    /// An Explicit VR LE data set with SOP Class and Instance UIDs and a little pixel data.
    fn data_set(instance: &str) -> Vec<u8> {
        fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
            let mut value = value.to_vec();
            if value.len() % 2 == 1 {
                value.push(0);
            }
            out.extend_from_slice(&group.to_le_bytes());
            out.extend_from_slice(&elem.to_le_bytes());
            out.extend_from_slice(vr);
            if vr == b"OW" {
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            } else {
                out.extend_from_slice(&(value.len() as u16).to_le_bytes());
            }
            out.extend_from_slice(&value);
        }
        let mut out = Vec::new();
        element(&mut out, 0x0008, 0x0016, b"UI", CT.as_bytes());
        element(&mut out, 0x0008, 0x0018, b"UI", instance.as_bytes());
        element(&mut out, 0x7FE0, 0x0010, b"OW", &[1, 2, 3, 4]);
        out
    }

    fn file(instance_in_data_set: &str) -> Vec<u8> {
        let mut file =
            file_prefix(CT, "1.2.3.4", EXPLICIT_VR_LITTLE_ENDIAN, "STORESCU").expect("builds");
        file.extend(data_set(instance_in_data_set));
        file
    }

    #[test]
    fn a_matching_data_set_passes() {
        assert_eq!(check_identity(&file("1.2.3.4"), CT, "1.2.3.4"), Ok(()));
    }

    #[test]
    fn a_different_instance_or_class_is_a_mismatch() {
        let failure = check_identity(&file("1.2.3.5"), CT, "1.2.3.4").expect_err("differs");
        assert_eq!(failure.status(), 0xA900);
        let failure = check_identity(&file("1.2.3.4"), "1.2.840.10008.5.1.4.1.1.4", "1.2.3.4")
            .expect_err("differs");
        assert_eq!(failure.status(), 0xA900);
    }

    #[test]
    fn garbage_cannot_be_understood() {
        let mut file =
            file_prefix(CT, "1.2.3.4", EXPLICIT_VR_LITTLE_ENDIAN, "STORESCU").expect("builds");
        file.extend_from_slice(&[0x08, 0x00, 0x16, 0x00, b'U', b'I', 0xff, 0xff, b'1']);
        let failure = check_identity(&file, CT, "1.2.3.4").expect_err("garbage");
        assert_eq!(failure.status(), 0xC000);
    }
}
