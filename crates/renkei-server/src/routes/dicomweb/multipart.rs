//! Reading `multipart/related` request bodies (RFC 2387): the boundary, each part's headers
//! and content; anything malformed is refused whole.

use crate::error::ApiError;

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

/// Longest header section of one part.
const MAX_HEADERS: usize = 16 * 1024;

/// What the next look at a multipart body found.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// More of the body is needed ([`Splitter::push`], or [`Splitter::end`] at its end).
    NeedMore,
    /// A part begins, with its `Content-Type` (lower-case) if it has one.
    Part { content_type: Option<String> },
    /// Content of the current part.
    Data(&'a [u8]),
    /// The current part ended.
    PartEnd,
    /// The closing delimiter: the rest is epilogue.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preamble,
    AfterDelimiter,
    Headers,
    Content,
    Done,
}

/// Splits a `multipart/related` body (RFC 2387) into parts as it arrives, holding no more than
/// a delimiter's length of content: delimiters are `--boundary` at the start or after CRLF, the
/// last one `--boundary--`; each part has headers, an empty line, then its content.
#[derive(Debug)]
pub struct Splitter {
    /// `\r\n--boundary`.
    delimiter: Vec<u8>,
    finder: memchr::memmem::Finder<'static>,
    buf: Vec<u8>,
    /// Where the unread bytes of `buf` start.
    at: usize,
    state: State,
    parts: usize,
}

impl Splitter {
    /// A splitter for `boundary` (1 to 70 characters).
    pub fn new(boundary: &str) -> Result<Splitter, ApiError> {
        if boundary.is_empty() || boundary.len() > 70 {
            return Err(bad("the multipart boundary must be 1 to 70 characters"));
        }
        let delimiter = format!("\r\n--{boundary}").into_bytes();
        Ok(Splitter {
            finder: memchr::memmem::Finder::new(&delimiter).into_owned(),
            delimiter,
            // A CRLF in front, so a delimiter at the very start is found like the others.
            buf: b"\r\n".to_vec(),
            at: 0,
            state: State::Preamble,
            parts: 0,
        })
    }

    /// Adds the next bytes of the body.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.drain(..self.at);
        self.at = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// Checks, at the end of the body, that it was closed.
    pub fn end(&self) -> Result<(), ApiError> {
        match self.state {
            State::Done => Ok(()),
            State::Preamble => Err(bad("the body has no part")),
            _ => Err(bad("the body ends before its closing delimiter")),
        }
    }

    /// The next thing found in what was pushed.
    pub fn next_step(&mut self) -> Result<Step<'_>, ApiError> {
        let keep = self.delimiter.len() - 1;
        loop {
            let rest = &self.buf[self.at..];
            match self.state {
                State::Done => return Ok(Step::Done),
                State::Preamble => match self.finder.find(rest) {
                    Some(i) => {
                        self.at += i + self.delimiter.len();
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        self.at += rest.len().saturating_sub(keep);
                        return Ok(Step::NeedMore);
                    }
                },
                State::AfterDelimiter => {
                    if rest.len() < 2 {
                        return Ok(Step::NeedMore);
                    }
                    if rest.starts_with(b"--") {
                        if self.parts == 0 {
                            return Err(bad("the body has no part"));
                        }
                        self.state = State::Done;
                        return Ok(Step::Done);
                    }
                    if !rest.starts_with(b"\r\n") {
                        return Err(bad("a multipart delimiter must end its line"));
                    }
                    self.at += 2;
                    self.state = State::Headers;
                }
                State::Headers => return self.headers(),
                State::Content => {
                    let (start, end) = match self.finder.find(rest) {
                        Some(0) => {
                            self.at += self.delimiter.len();
                            self.state = State::AfterDelimiter;
                            return Ok(Step::PartEnd);
                        }
                        Some(i) => (self.at, self.at + i),
                        None if rest.len() > keep => (self.at, self.at + rest.len() - keep),
                        None => return Ok(Step::NeedMore),
                    };
                    self.at = end;
                    return Ok(Step::Data(&self.buf[start..end]));
                }
            }
        }
    }

    /// A part's header section, once it is all there.
    fn headers(&mut self) -> Result<Step<'_>, ApiError> {
        let rest = &self.buf[self.at..];
        let split = if rest.starts_with(b"\r\n") {
            Some((0, 2))
        } else {
            memchr::memmem::find(rest, b"\r\n\r\n").map(|i| (i, i + 4))
        };
        let Some((end, body)) = split else {
            if rest.len() > MAX_HEADERS {
                return Err(bad("a part's headers are too long"));
            }
            return Ok(Step::NeedMore);
        };
        let headers =
            std::str::from_utf8(&rest[..end]).map_err(|_| bad("a part's headers are not text"))?;
        let content_type = headers.split("\r\n").find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_ascii_lowercase())
        });
        self.at += body;
        self.state = State::Content;
        self.parts += 1;
        Ok(Step::Part { content_type })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part: its content type and content.
    type Part = (Option<String>, Vec<u8>);

    /// The parts of `body` fed `chunk` bytes at a time.
    fn parts(body: &[u8], boundary: &str, chunk: usize) -> Result<Vec<Part>, ApiError> {
        let mut splitter = Splitter::new(boundary)?;
        let mut parts: Vec<Part> = Vec::new();
        let mut chunks = body.chunks(chunk.max(1));
        loop {
            match splitter.next_step()? {
                Step::NeedMore => match chunks.next() {
                    Some(bytes) => splitter.push(bytes),
                    None => {
                        splitter.end()?;
                        unreachable!("end() errs unless done");
                    }
                },
                Step::Part { content_type } => parts.push((content_type, Vec::new())),
                Step::Data(bytes) => parts
                    .last_mut()
                    .expect("in a part")
                    .1
                    .extend_from_slice(bytes),
                Step::PartEnd => {}
                Step::Done => return Ok(parts),
            }
        }
    }

    #[test]
    fn bodies_split_into_parts_however_they_arrive() {
        let body = b"preamble\r\n--b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n--b\r\n\r\nTWO--b\r\n--b--\r\n";
        for chunk in [1, 2, 3, 5, 7, body.len()] {
            let found = parts(body, "b", chunk).unwrap();
            assert_eq!(found.len(), 2);
            assert_eq!(found[0].1, b"ONE");
            assert_eq!(found[0].0.as_deref(), Some("application/dicom"));
            assert_eq!(
                found[1].1, b"TWO--b",
                "a boundary not after CRLF is content"
            );
            assert_eq!(found[1].0, None);
        }
        let at_start = b"--b\r\n\r\nX\r\n--b--";
        assert_eq!(parts(at_start, "b", 1).unwrap()[0].1, b"X");
        for broken in [
            &b"no parts here"[..],
            b"--b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n--b\r\n\r\nTWO",
            b"--b\r\nno blank line\r\n--b--",
            b"--b--\r\n",
        ] {
            for chunk in [1, 4, broken.len()] {
                assert!(
                    parts(broken, "b", chunk).is_err(),
                    "{}",
                    String::from_utf8_lossy(broken)
                );
            }
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
