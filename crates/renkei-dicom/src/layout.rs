//! Where the parts of an encoded Part 10 file lie: the data set, and a top-level Pixel Data
//! element that ends the file, found by walking element headers without reading values.
//!
//! De-identification uses this to parse only the attributes before the pixel data and to copy
//! the pixel data element itself as received: it is never modified, and parsing half a
//! megabyte of pixel values per instance only to write them back is most of the work.

/// Pixel Data (7FE0,0010) as its tag bytes appear in little-endian encodings.
const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_DELIMITATION: (u16, u16) = (0xFFFE, 0xE00D);
const SEQUENCE_DELIMITATION: (u16, u16) = (0xFFFE, 0xE0DD);
const TRANSFER_SYNTAX_UID: (u16, u16) = (0x0002, 0x0010);
const UNDEFINED: u32 = 0xFFFF_FFFF;
/// Deepest sequence nesting walked; real objects stay far below.
const MAX_DEPTH: usize = 64;

/// Implicit VR Little Endian.
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
/// RLE Lossless.
const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
/// The compressed transfer syntaxes: JPEG, JPEG-LS, JPEG 2000, MPEG, HEVC, JPIP.
const COMPRESSED: &str = "1.2.840.10008.1.2.4.";
/// JPIP Referenced Deflate: a deflated data set.
const JPIP_DEFLATE: &str = "1.2.840.10008.1.2.4.95";
const DATA_SET_TRAILING_PADDING: (u16, u16) = (0xFFFC, 0xFFFC);

/// A file whose last top-level element is Pixel Data (or Pixel Data, then only Data Set
/// Trailing Padding, which means nothing and is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailingPixelData {
    /// Where the Pixel Data element (its header) begins; everything before it is the preamble,
    /// the meta group and the other attributes.
    pub element_start: usize,
    /// Where the Pixel Data element ends.
    pub element_end: usize,
}

/// Finds a top-level Pixel Data element that ends `file`, for the little-endian transfer
/// syntaxes that are not deflated (implicit VR, explicit VR, and the compressed ones, whose
/// data sets are explicit VR little endian). `None` when the file is encoded otherwise, has
/// anything but trailing padding after its pixel data, or is not well formed: callers then
/// parse it whole.
pub fn trailing_pixel_data(file: &[u8]) -> Option<TrailingPixelData> {
    let start = if file.get(128..132) == Some(b"DICM") {
        132
    } else if file.get(..4) == Some(b"DICM") {
        4
    } else {
        return None;
    };
    let (dataset_offset, transfer_syntax) = meta_group(file, start)?;
    let explicit = match transfer_syntax {
        IMPLICIT_LE => false,
        EXPLICIT_LE | RLE_LOSSLESS => true,
        // JPEG, JPEG-LS, JPEG 2000, MPEG, HEVC; not JPIP Referenced Deflate.
        ts if ts.starts_with(COMPRESSED) && ts != JPIP_DEFLATE => true,
        _ => return None,
    };
    let walker = Walker { file, explicit };
    let mut at = dataset_offset;
    while at < file.len() {
        let header = walker.header(at)?;
        if header.tag == PIXEL_DATA {
            let end = walker.skip_value(&header, 0)?;
            let trailing_padding = || {
                let padding = walker.header(end)?;
                let padding_end = walker.skip_value(&padding, 0)?;
                (padding.tag == DATA_SET_TRAILING_PADDING && padding_end == file.len())
                    .then_some(())
            };
            return (end == file.len() || trailing_padding().is_some()).then_some(
                TrailingPixelData {
                    element_start: at,
                    element_end: end,
                },
            );
        }
        if header.tag.0 == 0xFFFE {
            return None;
        }
        at = walker.skip_value(&header, 0)?;
    }
    None
}

/// The end of the meta group (where the data set begins) and its Transfer Syntax UID.
fn meta_group(file: &[u8], start: usize) -> Option<(usize, &str)> {
    let walker = Walker {
        file,
        explicit: true,
    };
    let mut at = start;
    let mut transfer_syntax = None;
    while at < file.len() && u16_at(file, at)? == 0x0002 {
        let header = walker.header(at)?;
        let end = walker.skip_value(&header, 0)?;
        if header.tag == TRANSFER_SYNTAX_UID {
            let value = file.get(header.value_start..end)?;
            let text = std::str::from_utf8(value).ok()?;
            transfer_syntax = Some(text.trim_end_matches(['\0', ' ']));
        }
        at = end;
    }
    Some((at, transfer_syntax?))
}

/// One element header.
#[derive(Debug, Clone, Copy)]
struct Header {
    tag: (u16, u16),
    /// The VR for explicit encodings (`None` for implicit VR and for items and delimiters).
    vr: Option<[u8; 2]>,
    length: u32,
    value_start: usize,
}

/// Walks element headers in one little-endian encoding.
struct Walker<'a> {
    file: &'a [u8],
    explicit: bool,
}

fn u16_at(file: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(file.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(file: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(file.get(at..at + 4)?.try_into().ok()?))
}

/// Explicit VRs with a 4-byte length (PS3.5 7.1.2); the others have a 2-byte one.
fn has_long_length(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

impl Walker<'_> {
    fn header(&self, at: usize) -> Option<Header> {
        let file = self.file;
        let tag = (u16_at(file, at)?, u16_at(file, at + 2)?);
        if tag.0 == 0xFFFE || !self.explicit {
            return Some(Header {
                tag,
                vr: None,
                length: u32_at(file, at + 4)?,
                value_start: at + 8,
            });
        }
        let vr: [u8; 2] = file.get(at + 4..at + 6)?.try_into().ok()?;
        if !vr.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        if has_long_length(vr) {
            if u16_at(file, at + 6)? != 0 {
                return None;
            }
            Some(Header {
                tag,
                vr: Some(vr),
                length: u32_at(file, at + 8)?,
                value_start: at + 12,
            })
        } else {
            Some(Header {
                tag,
                vr: Some(vr),
                length: u32::from(u16_at(file, at + 6)?),
                value_start: at + 8,
            })
        }
    }

    /// Where the element of `header` ends (its items included when its length is undefined).
    fn skip_value(&self, header: &Header, depth: usize) -> Option<usize> {
        if header.length != UNDEFINED {
            let end = header.value_start.checked_add(header.length as usize)?;
            return (end <= self.file.len()).then_some(end);
        }
        if depth >= MAX_DEPTH {
            return None;
        }
        // Undefined length: a sequence, or encapsulated pixel data. The items of UN with
        // undefined length are implicit VR whatever the transfer syntax (PS3.5 6.2.2).
        let inner = Walker {
            file: self.file,
            explicit: self.explicit && header.vr != Some(*b"UN"),
        };
        let mut at = header.value_start;
        loop {
            let item = inner.header(at)?;
            match item.tag {
                SEQUENCE_DELIMITATION => return Some(item.value_start),
                ITEM if item.length != UNDEFINED => {
                    at = inner.skip_value(&item, depth + 1)?;
                }
                ITEM => at = inner.skip_item(item.value_start, depth + 1)?,
                _ => return None,
            }
        }
    }

    /// Where an item of undefined length that starts its elements at `at` ends.
    fn skip_item(&self, mut at: usize, depth: usize) -> Option<usize> {
        loop {
            let element = self.header(at)?;
            if element.tag == ITEM_DELIMITATION {
                return Some(element.value_start);
            }
            if element.tag.0 == 0xFFFE {
                return None;
            }
            at = self.skip_value(&element, depth)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&tag.0.to_le_bytes());
        bytes.extend_from_slice(&tag.1.to_le_bytes());
        bytes.extend_from_slice(vr);
        if has_long_length(*vr) {
            bytes.extend_from_slice(&[0, 0]);
            bytes.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            bytes.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        bytes.extend_from_slice(value);
        bytes
    }

    fn file(transfer_syntax: &str, dataset: &[u8]) -> Vec<u8> {
        let mut ts = transfer_syntax.as_bytes().to_vec();
        if ts.len() % 2 == 1 {
            ts.push(0);
        }
        let mut bytes = vec![0u8; 128];
        bytes.extend_from_slice(b"DICM");
        bytes.extend(element((0x0002, 0x0010), b"UI", &ts));
        bytes.extend_from_slice(dataset);
        bytes
    }

    fn undefined(tag: (u16, u16), vr: &[u8; 2]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&tag.0.to_le_bytes());
        bytes.extend_from_slice(&tag.1.to_le_bytes());
        bytes.extend_from_slice(vr);
        bytes.extend_from_slice(&[0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        bytes
    }

    fn delimiter(tag: (u16, u16), length: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&tag.0.to_le_bytes());
        bytes.extend_from_slice(&tag.1.to_le_bytes());
        bytes.extend_from_slice(&length.to_le_bytes());
        bytes
    }

    #[test]
    fn finds_pixel_data_after_a_nested_sequence_holding_its_own_pixel_data() {
        let mut dataset = element((0x0010, 0x0010), b"PN", b"Doe^Jane");
        // An icon image sequence of undefined length whose item holds a Pixel Data element.
        dataset.extend(undefined((0x0088, 0x0200), b"SQ"));
        dataset.extend(delimiter(ITEM, UNDEFINED));
        dataset.extend(element(PIXEL_DATA, b"OB", &[1, 2, 3, 4]));
        dataset.extend(delimiter(ITEM_DELIMITATION, 0));
        dataset.extend(delimiter(SEQUENCE_DELIMITATION, 0));
        let pixels_at = dataset.len();
        dataset.extend(element(PIXEL_DATA, b"OW", &[7u8; 64]));
        let bytes = file(EXPLICIT_LE, &dataset);
        let found = trailing_pixel_data(&bytes).expect("found");
        let meta = bytes.len() - dataset.len();
        assert_eq!(found.element_start, meta + pixels_at);
    }

    #[test]
    fn encapsulated_pixel_data_is_walked_to_its_delimiter() {
        let mut dataset = element((0x0008, 0x0060), b"CS", b"US");
        let pixels_at = dataset.len();
        dataset.extend(undefined(PIXEL_DATA, b"OB"));
        dataset.extend(delimiter(ITEM, 0));
        dataset.extend(delimiter(ITEM, 4));
        dataset.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xD9]);
        dataset.extend(delimiter(SEQUENCE_DELIMITATION, 0));
        let bytes = file(EXPLICIT_LE, &dataset);
        let meta = bytes.len() - dataset.len();
        assert_eq!(
            trailing_pixel_data(&bytes),
            Some(TrailingPixelData {
                element_start: meta + pixels_at,
                element_end: bytes.len(),
            })
        );
    }

    #[test]
    fn anything_after_the_pixel_data_or_a_broken_header_means_no_split() {
        let mut dataset = element((0x0010, 0x0010), b"PN", b"Doe^Jane");
        dataset.extend(element(PIXEL_DATA, b"OW", &[7u8; 64]));
        // Trailing padding after the pixel data is left out; any other element is not.
        let mut padded = dataset.clone();
        padded.extend(element((0xFFFC, 0xFFFC), b"OB", &[0u8; 8]));
        let bytes = file(EXPLICIT_LE, &padded);
        let found = trailing_pixel_data(&bytes).expect("split");
        assert_eq!(found.element_end, bytes.len() - 20);
        let mut signed = dataset.clone();
        signed.extend(element((0xFFFA, 0xFFFA), b"SQ", &[]));
        assert_eq!(trailing_pixel_data(&file(EXPLICIT_LE, &signed)), None);
        // A pixel data length that overruns the file.
        let mut short = file(EXPLICIT_LE, &dataset);
        short.truncate(short.len() - 1);
        assert_eq!(trailing_pixel_data(&short), None);
        // Deflated and big-endian data sets are never split.
        assert_eq!(
            trailing_pixel_data(&file("1.2.840.10008.1.2.1.99", &dataset)),
            None
        );
        assert_eq!(
            trailing_pixel_data(&file("1.2.840.10008.1.2.2", &dataset)),
            None
        );
        assert!(trailing_pixel_data(&file(EXPLICIT_LE, &dataset)).is_some());
        assert_eq!(trailing_pixel_data(b"not dicom"), None);
    }

    #[test]
    fn implicit_vr_is_walked_with_four_byte_lengths() {
        let mut dataset = delimiter((0x0010, 0x0010), 8);
        dataset.extend_from_slice(b"Doe^Jane");
        let pixels_at = dataset.len();
        dataset.extend(delimiter(PIXEL_DATA, 6));
        dataset.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        let bytes = file(IMPLICIT_LE, &dataset);
        let meta = bytes.len() - dataset.len();
        assert_eq!(
            trailing_pixel_data(&bytes).map(|t| t.element_start),
            Some(meta + pixels_at)
        );
    }
}
