//! Reads an image's dimensions from its header and checks that its structure is complete,
//! without decoding or allocating pixels.

use crate::error::MediaError;
use crate::kind::MediaKind;

/// The dimensions an image declares in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageHeader {
    pub width: u32,
    pub height: u32,
    /// PNG, GIF and lossless (VP8L) WebP: re-encoding must stay lossless.
    pub lossless: bool,
}

/// Walks the file's structure: dimensions from the header, `truncated_image` when the data ends
/// before the image does (a JPEG without its end marker, a PNG without `IEND`, a short RIFF).
pub(crate) fn read_header(kind: MediaKind, bytes: &[u8]) -> Result<ImageHeader, MediaError> {
    match kind {
        MediaKind::Jpeg => read_jpeg(bytes),
        MediaKind::Png => read_png(bytes).map(ImageHeader::lossless),
        MediaKind::WebP => read_webp(bytes),
        MediaKind::Gif => read_gif(bytes).map(ImageHeader::lossless),
        other => Err(MediaError::UnsupportedType {
            kind: other.as_str(),
        }),
    }
}

fn u16_be(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u24_le(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn nonzero(width: u32, height: u32) -> Result<ImageHeader, MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::corrupt("the header declares a zero dimension"));
    }
    Ok(ImageHeader {
        width,
        height,
        lossless: false,
    })
}

impl ImageHeader {
    fn lossless(self) -> Self {
        ImageHeader {
            lossless: true,
            ..self
        }
    }
}

/// Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT, JPG or DAC.
fn is_start_of_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

fn read_jpeg(b: &[u8]) -> Result<ImageHeader, MediaError> {
    let mut header = None;
    let mut pos = 2; // after SOI
    loop {
        match b.get(pos) {
            None => return Err(MediaError::TruncatedImage),
            Some(0xFF) => {}
            Some(_) => return Err(MediaError::corrupt("expected a JPEG marker")),
        }
        while b.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *b.get(pos).ok_or(MediaError::TruncatedImage)?;
        pos += 1;
        match marker {
            0xD9 => {
                return header.ok_or_else(|| MediaError::corrupt("the JPEG has no frame header"));
            }
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 => return Err(MediaError::corrupt("a second start-of-image marker")),
            _ => {}
        }
        let length = usize::from(u16_be(b, pos).ok_or(MediaError::TruncatedImage)?);
        if length < 2 {
            return Err(MediaError::corrupt("a JPEG segment length below 2"));
        }
        let segment_end = pos + length;
        if segment_end > b.len() {
            return Err(MediaError::TruncatedImage);
        }
        if is_start_of_frame(marker) && header.is_none() {
            let height = u16_be(b, pos + 3).ok_or_else(|| MediaError::corrupt("short SOF"))?;
            let width = u16_be(b, pos + 5).ok_or_else(|| MediaError::corrupt("short SOF"))?;
            header = Some(nonzero(u32::from(width), u32::from(height))?);
        }
        pos = segment_end;
        if marker == 0xDA {
            if header.is_none() {
                return Err(MediaError::corrupt("a JPEG scan before its frame header"));
            }
            pos = end_of_entropy_coded_data(b, pos)?;
        }
    }
}

/// The position of the marker that ends a scan's entropy-coded data.
fn end_of_entropy_coded_data(b: &[u8], mut pos: usize) -> Result<usize, MediaError> {
    loop {
        let offset = b[pos.min(b.len())..]
            .iter()
            .position(|&c| c == 0xFF)
            .ok_or(MediaError::TruncatedImage)?;
        pos += offset;
        match b.get(pos + 1) {
            None => return Err(MediaError::TruncatedImage),
            // Stuffed zero byte or restart marker: still inside the scan.
            Some(0x00 | 0xD0..=0xD7) => pos += 2,
            // Fill byte: the marker starts at the next 0xFF.
            Some(0xFF) => pos += 1,
            Some(_) => return Ok(pos),
        }
    }
}

fn read_png(b: &[u8]) -> Result<ImageHeader, MediaError> {
    let mut pos = 8; // after the signature
    let mut header = None;
    let mut has_image_data = false;
    loop {
        let length = u32_be(b, pos).ok_or(MediaError::TruncatedImage)? as usize;
        let chunk_type = b.get(pos + 4..pos + 8).ok_or(MediaError::TruncatedImage)?;
        let data_start = pos + 8;
        let chunk_end = data_start
            .checked_add(length)
            .and_then(|end| end.checked_add(4))
            .ok_or(MediaError::TruncatedImage)?;
        if chunk_end > b.len() {
            return Err(MediaError::TruncatedImage);
        }
        match chunk_type {
            b"IHDR" if pos == 8 && length == 13 => {
                let width = u32_be(b, data_start).unwrap_or(0);
                let height = u32_be(b, data_start + 4).unwrap_or(0);
                header = Some(nonzero(width, height)?);
            }
            _ if pos == 8 => return Err(MediaError::corrupt("the PNG does not start with IHDR")),
            b"IDAT" => has_image_data = true,
            b"IEND" => {
                return match (header, has_image_data) {
                    (Some(header), true) => Ok(header),
                    _ => Err(MediaError::corrupt("the PNG has no image data")),
                };
            }
            _ => {}
        }
        pos = chunk_end;
    }
}

fn read_webp(b: &[u8]) -> Result<ImageHeader, MediaError> {
    let riff_size = u32_le(b, 4).ok_or(MediaError::TruncatedImage)? as usize;
    let riff_end = riff_size.checked_add(8).ok_or(MediaError::TruncatedImage)?;
    if riff_end > b.len() {
        return Err(MediaError::TruncatedImage);
    }
    let mut header = None;
    let mut pos = 12;
    while pos + 8 <= riff_end {
        let fourcc = &b[pos..pos + 4];
        let size = u32_le(b, pos + 4).unwrap_or(0) as usize;
        let data = pos + 8;
        let end = data.checked_add(size).ok_or(MediaError::TruncatedImage)?;
        if end > riff_end {
            return Err(MediaError::TruncatedImage);
        }
        if fourcc == b"VP8L" {
            header = header.map(ImageHeader::lossless);
        }
        if header.is_none() {
            header = Some(match fourcc {
                b"VP8X" => {
                    let width = u24_le(b, data + 4).ok_or(MediaError::TruncatedImage)? + 1;
                    let height = u24_le(b, data + 7).ok_or(MediaError::TruncatedImage)? + 1;
                    nonzero(width, height)?
                }
                b"VP8 " => {
                    if b.get(data + 3..data + 6) != Some(&[0x9D, 0x01, 0x2A][..]) {
                        return Err(MediaError::corrupt("bad VP8 start code"));
                    }
                    let width = u16_le(b, data + 6).ok_or(MediaError::TruncatedImage)? & 0x3FFF;
                    let height = u16_le(b, data + 8).ok_or(MediaError::TruncatedImage)? & 0x3FFF;
                    nonzero(u32::from(width), u32::from(height))?
                }
                b"VP8L" => {
                    if b.get(data) != Some(&0x2F) {
                        return Err(MediaError::corrupt("bad VP8L signature"));
                    }
                    let bits = u32_le(b, data + 1).ok_or(MediaError::TruncatedImage)?;
                    nonzero((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)?.lossless()
                }
                _ => return Err(MediaError::corrupt("the WebP has no image chunk first")),
            });
        }
        pos = end + (size & 1);
    }
    header.ok_or(MediaError::TruncatedImage)
}

/// GIF: dimensions of the logical screen; checks the first frame's data is all there.
fn read_gif(b: &[u8]) -> Result<ImageHeader, MediaError> {
    let width = u16_le(b, 6).ok_or(MediaError::TruncatedImage)?;
    let height = u16_le(b, 8).ok_or(MediaError::TruncatedImage)?;
    let header = nonzero(u32::from(width), u32::from(height))?;
    let flags = *b.get(10).ok_or(MediaError::TruncatedImage)?;
    let color_table = |flags: u8| {
        if flags & 0x80 != 0 {
            3usize << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let mut pos = 13 + color_table(flags);
    let skip_sub_blocks = |mut pos: usize| -> Result<usize, MediaError> {
        loop {
            let size = usize::from(*b.get(pos).ok_or(MediaError::TruncatedImage)?);
            pos += 1 + size;
            if size == 0 {
                return Ok(pos);
            }
        }
    };
    loop {
        match b.get(pos) {
            None => return Err(MediaError::TruncatedImage),
            Some(0x21) => pos = skip_sub_blocks(pos + 2)?,
            Some(0x2C) => {
                let local_flags = *b.get(pos + 9).ok_or(MediaError::TruncatedImage)?;
                // Descriptor (10 bytes), local colour table, LZW minimum code size, data.
                let data = pos + 10 + color_table(local_flags) + 1;
                skip_sub_blocks(data)?;
                return Ok(header);
            }
            Some(0x3B) => return Err(MediaError::corrupt("the GIF has no frame")),
            Some(_) => return Err(MediaError::corrupt("unexpected GIF block")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_header_dimensions_are_read_without_decoding() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&70_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        png.extend_from_slice(b"\0\0\0\0IDAT\0\0\0\0\0\0\0\0IEND\0\0\0\0");
        let header = read_header(MediaKind::Png, &png).expect("header");
        assert_eq!((header.width, header.height), (100_000, 70_000));
    }

    #[test]
    fn png_without_iend_is_truncated() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01".to_vec();
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        png.extend_from_slice(b"\0\0\0\x20IDAT\x78\x9c");
        assert_eq!(
            read_header(MediaKind::Png, &png),
            Err(MediaError::TruncatedImage)
        );
    }

    #[test]
    fn jpeg_cut_before_its_scan_ends_is_truncated() {
        // SOI, SOF0 (2x3), SOS, some entropy bytes, no EOI.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 3, 0, 2, 1, 1, 0x11, 0];
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
        jpeg.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        assert_eq!(
            read_header(MediaKind::Jpeg, &jpeg),
            Err(MediaError::TruncatedImage)
        );
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        let header = read_header(MediaKind::Jpeg, &jpeg).expect("complete");
        assert_eq!((header.width, header.height), (2, 3));
    }

    #[test]
    fn webp_shorter_than_its_riff_size_is_truncated() {
        let mut webp = b"RIFF\x20\0\0\0WEBPVP8L\x0a\0\0\0\x2f".to_vec();
        webp.extend_from_slice(&[0; 6]);
        assert_eq!(
            read_header(MediaKind::WebP, &webp),
            Err(MediaError::TruncatedImage)
        );
    }
}
