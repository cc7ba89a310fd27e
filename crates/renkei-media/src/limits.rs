//! Resource limits that protect the decoder from decompression bombs and oversized input.

/// Resource limits for decoding untrusted media. `Limits::default()` suits phone photos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted encoded photo, in bytes.
    pub max_photo_bytes: u64,
    /// Widest accepted image, in pixels (checked in the header before any decoding).
    pub max_width: u32,
    /// Tallest accepted image, in pixels (checked in the header before any decoding).
    pub max_height: u32,
    /// Most pixels in one image (width × height, checked in the header).
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate for one image.
    pub max_decode_bytes: u64,
    /// Largest `moov` box (the video's index and metadata) read into memory, in bytes.
    pub max_video_header_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_photo_bytes: 64 * 1024 * 1024,
            max_width: 12_000,
            max_height: 12_000,
            max_pixels: 50_000_000,
            // 50 MP as 8-bit RGBA is 200 MB; 16-bit RGB PNGs of that size are refused.
            max_decode_bytes: 256 * 1024 * 1024,
            max_video_header_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The same limits as the `image` crate expresses them.
    pub(crate) fn for_image_crate(&self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(self.max_width);
        limits.max_image_height = Some(self.max_height);
        limits.max_alloc = Some(self.max_decode_bytes);
        limits
    }
}
