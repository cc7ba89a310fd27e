//! The STOW-RS `multipart/related` reader: the first byte is the size of the chunks the body
//! arrives in, the first line the Content-Type, the rest the body. However the body arrives,
//! it splits into the same parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_server::fuzzing::{Splitter, Step, boundary_of, parameter};

/// A part: its content type and content.
type Part = (Option<String>, Vec<u8>);

/// The parts of `body` fed `chunk` bytes at a time, or `None` when it is refused.
fn split(boundary: &str, body: &[u8], chunk: usize) -> Option<Vec<Part>> {
    let mut splitter = Splitter::new(boundary).ok()?;
    let mut parts: Vec<Part> = Vec::new();
    let mut chunks = body.chunks(chunk);
    loop {
        match splitter.next_step().ok()? {
            Step::NeedMore => match chunks.next() {
                Some(bytes) => splitter.push(bytes),
                None => {
                    splitter.end().ok()?;
                    panic!("end() accepted a body that was not done");
                }
            },
            Step::Part { content_type } => parts.push((content_type, Vec::new())),
            Step::Data(bytes) => parts
                .last_mut()
                .expect("data within a part")
                .1
                .extend_from_slice(bytes),
            Step::PartEnd => {}
            Step::Done => return Some(parts),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
        return;
    };
    let Ok(content_type) = std::str::from_utf8(&rest[..newline]) else {
        return;
    };
    let body = &rest[newline + 1..];
    let _ = parameter(content_type, "type");
    let Some(boundary) = boundary_of(content_type) else {
        return;
    };
    let whole = split(&boundary, body, body.len().max(1));
    let chunked = split(&boundary, body, usize::from(chunk).max(1));
    assert_eq!(whole, chunked, "the parts depend on how the body arrives");
});
