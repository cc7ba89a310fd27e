//! The picture size in a VP8 keyframe header (RFC 6386 §9.1), to learn each layer's size.
//!
//! The relay never decodes video, but choosing a simulcast layer by the size a tile is
//! shown needs each layer's size. A VP8 keyframe states it in its first ten bytes: a 3-byte
//! frame tag (bit 0 clear for a keyframe), the start code 9d 01 2a, then width and height
//! as 14-bit little-endian numbers (the top two bits are a scaling hint). Other codecs fall
//! back to the rid's name (see `layers::order`).

/// Width and height of a VP8 keyframe, or `None` for an interframe or anything else.
pub fn keyframe_size(frame: &[u8]) -> Option<(u32, u32)> {
    if frame.len() < 10 || frame[0] & 0x01 != 0 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let width = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let height = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    Some((u32::from(width), u32::from(height)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_size_of_a_keyframe() {
        // 1280 = 0x0500, 720 = 0x02d0, with scaling bits set on the width.
        let frame = [
            0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x45, 0xd0, 0x02, 0xff,
        ];
        assert_eq!(keyframe_size(&frame), Some((1280, 720)));
    }

    #[test]
    fn an_interframe_or_garbage_has_no_size() {
        let inter = [0x11, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02];
        assert_eq!(keyframe_size(&inter), None);
        assert_eq!(keyframe_size(&[0x10, 0x00]), None);
        assert_eq!(keyframe_size(&[0x10, 0, 0, 1, 2, 3, 4, 5, 6, 7]), None);
    }
}
