//! The MP4/QuickTime metadata remover: box walking, removal and chunk offset rewriting. What it
//! writes is sanitised again without error and without anything more to remove.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_media::{Limits, sanitize_mp4_bytes};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok((output, _)) = sanitize_mp4_bytes(data, &limits) {
        let (again, report) =
            sanitize_mp4_bytes(&output, &limits).expect("its own output is a valid file");
        assert!(
            report.removed_boxes.is_empty(),
            "{:?}",
            report.removed_boxes
        );
        assert_eq!(again.len(), output.len());
    }
});
