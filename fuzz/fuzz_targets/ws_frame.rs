//! The WebSocket protocol's client frames as the socket decodes them: JSON into a frame (or the
//! reason a call frame is refused), and a posted message cleaned and checked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_core::conversation::clean_body;
use renkei_service::messaging::frames::{ClientFrame, call_frame_error};

fuzz_target!(|data: &[u8]| {
    // Text frames arrive as UTF-8 (the WebSocket layer checks).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(ClientFrame::Send { mut message, .. }) => {
            message.body = clean_body(&message.body);
            let _ = message.validate();
        }
        Ok(_) => {}
        Err(_) => {
            let _ = call_frame_error(text);
        }
    }
});
