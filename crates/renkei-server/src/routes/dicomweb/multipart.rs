//! Reading `multipart/related` request bodies (RFC 2387): the boundary, each part's headers
//! and content; anything malformed is refused whole.

use crate::error::ApiError;

/// One part of a multipart body.
#[derive(Debug, PartialEq, Eq)]
pub struct BodyPart<'a> {
    /// The part's `Content-Type`, lower-case, if it has one.
    pub content_type: Option<String>,
    pub content: &'a [u8],
}

fn bad(message: &str) -> ApiError {
    ApiError::bad_request("invalid_multipart", message.to_owned())
}

/// The `boundary` parameter of a content type.
pub fn boundary_of(content_type: &str) -> Option<String> {
    parameter(content_type, "boundary")
}

/// A parameter of a content type (`type`, `boundary`…), unquoted.
pub fn parameter(content_type: &str, name: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The parts of `body`: delimiters are `--boundary` at the start or after CRLF, the last one
/// `--boundary--`; each part has headers, an empty line, then its content.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<BodyPart<'a>>, ApiError> {
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(bad("the multipart boundary must be 1 to 70 characters"));
    }
    let first = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let start = if body.starts_with(first.as_bytes()) {
        0
    } else {
        memchr::memmem::find(body, delimiter.as_bytes())
            .map(|i| i + 2)
            .ok_or_else(|| bad("the body has no part"))?
    };
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let mut parts = Vec::new();
    let mut at = start + first.len();
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            if parts.is_empty() {
                return Err(bad("the body has no part"));
            }
            return Ok(parts);
        }
        let rest = rest
            .strip_prefix(b"\r\n")
            .ok_or_else(|| bad("a multipart delimiter must end its line"))?;
        let end = finder
            .find(rest)
            .ok_or_else(|| bad("the body ends before its closing delimiter"))?;
        let part = &rest[..end];
        let split = memchr::memmem::find(part, b"\r\n\r\n")
            .map(|i| (i, i + 4))
            .or_else(|| part.starts_with(b"\r\n").then_some((0, 2)))
            .ok_or_else(|| bad("a part has no header section"))?;
        let headers = std::str::from_utf8(&part[..split.0])
            .map_err(|_| bad("a part's headers are not text"))?;
        let content_type = headers.split("\r\n").find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_ascii_lowercase())
        });
        parts.push(BodyPart {
            content_type,
            content: &part[split.1..],
        });
        at = body.len() - rest.len() + end + delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_split_into_parts() {
        let body = b"preamble\r\n--b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n--b\r\n\r\nTWO--b\r\n--b--\r\n";
        let found = parts(body, "b").unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].content, b"ONE");
        assert_eq!(found[0].content_type.as_deref(), Some("application/dicom"));
        assert_eq!(
            found[1].content, b"TWO--b",
            "a boundary not after CRLF is content"
        );
        assert_eq!(found[1].content_type, None);
        for broken in [
            &b"no parts here"[..],
            b"--b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n--b\r\n\r\nTWO",
            b"--b\r\nno blank line\r\n--b--",
            b"--b--\r\n",
        ] {
            assert!(
                parts(broken, "b").is_err(),
                "{}",
                String::from_utf8_lossy(broken)
            );
        }
        assert_eq!(
            boundary_of("multipart/related; type=\"application/dicom\"; boundary=\"x y\"")
                .as_deref(),
            Some("x y")
        );
        assert_eq!(
            parameter("multipart/related; Type=\"application/dicom\"", "type").as_deref(),
            Some("application/dicom")
        );
    }
}
