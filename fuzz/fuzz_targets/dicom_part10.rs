//! The DICOM Part 10 parsers: the layout walker that finds trailing pixel data, the identity
//! check of a received data set, and the parse and check of files sent as de-identified.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_dicom::layout::trailing_pixel_data;
use renkei_dicom::prepare::accept_deidentified;
use renkei_dicom::scp::part10::check_identity;

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";

fuzz_target!(|data: &[u8]| {
    if let Some(split) = trailing_pixel_data(data) {
        assert!(split.element_start <= split.element_end);
        assert!(split.element_end <= data.len());
    }
    let _ = check_identity(data, CT, "1.2.3.4");
    let _ = accept_deidentified(data.to_vec(), 4);
});
