//! The MP4/QuickTime metadata remover: box walking, removal and chunk offset rewriting. What it
//! writes is sanitised again without error and grows no longer (the `free` boxes that stand in
//! for metadata may go then).
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_media::{Limits, sanitize_mp4_bytes};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok((output, _)) = sanitize_mp4_bytes(data, &limits) {
        let (again, _) =
            sanitize_mp4_bytes(&output, &limits).expect("its own output is a valid file");
        assert!(again.len() <= output.len());
    }
});
