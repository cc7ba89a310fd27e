//! The upload checks before any decoding: type sniffing, the declared type and name against
//! it, and the safe file name. Input: the declared MIME type, a newline, the file name, a
//! newline, then the file's first bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_media::{SNIFF_LEN, check_declared, handling, safe_file_name, sniff};

fuzz_target!(|data: &[u8]| {
    let mut fields = data.splitn(3, |&b| b == b'\n');
    let (Some(mime), Some(name), Some(bytes)) = (fields.next(), fields.next(), fields.next())
    else {
        let _ = sniff(data);
        return;
    };
    let mime = String::from_utf8_lossy(mime);
    let name = String::from_utf8_lossy(name);
    let kind = sniff(&bytes[..bytes.len().min(SNIFF_LEN)]);
    let _ = handling(kind);
    let _ = check_declared(kind, &mime, &name);
    let _ = safe_file_name(&name);
});
