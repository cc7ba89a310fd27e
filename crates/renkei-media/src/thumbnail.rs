//! Small JPEG previews of photos, without metadata.

use image::{DynamicImage, Rgb, RgbImage};

use crate::error::MediaError;
use crate::limits::Limits;
use crate::photo::{SanitizedPhoto, decode_upright, encode_jpeg, sanitize_photo_from_upright};

/// JPEG quality of thumbnails.
pub const THUMBNAIL_JPEG_QUALITY: u8 = 80;

/// A small upright JPEG preview with no metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    /// Always `image/jpeg`.
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// A JPEG preview whose longer side is at most `max_side` (smaller images keep their size),
/// decoded under `Limits::default()`. Transparency is flattened onto white.
pub fn thumbnail(bytes: &[u8], max_side: u32) -> Result<Thumbnail, MediaError> {
    thumbnail_with_limits(bytes, max_side, &Limits::default())
}

/// [`thumbnail`] with explicit decoding limits.
pub fn thumbnail_with_limits(
    bytes: &[u8],
    max_side: u32,
    limits: &Limits,
) -> Result<Thumbnail, MediaError> {
    let photo = decode_upright(bytes, limits)?;
    thumbnail_of(&photo.image, max_side)
}

/// Sanitises a photo and makes its thumbnail from a single decode.
pub fn sanitize_photo_with_thumbnail(
    bytes: &[u8],
    limits: &Limits,
    max_side: u32,
) -> Result<(SanitizedPhoto, Thumbnail), MediaError> {
    let photo = decode_upright(bytes, limits)?;
    let thumbnail = thumbnail_of(&photo.image, max_side)?;
    Ok((sanitize_photo_from_upright(&photo)?, thumbnail))
}

fn thumbnail_of(image: &DynamicImage, max_side: u32) -> Result<Thumbnail, MediaError> {
    let max_side = max_side.max(1);
    let small = if image.width() <= max_side && image.height() <= max_side {
        image.clone()
    } else {
        // Integer area sampling: each source pixel is read once, fast on 12 MP photos.
        image.thumbnail(max_side, max_side)
    };
    let flat = DynamicImage::ImageRgb8(flatten_onto_white(&small));
    let mut bytes = Vec::new();
    encode_jpeg(&flat, THUMBNAIL_JPEG_QUALITY, None, &mut bytes)?;
    Ok(Thumbnail {
        bytes,
        mime: "image/jpeg",
        width: flat.width(),
        height: flat.height(),
    })
}

/// RGB pixels, with transparent areas shown over white as a browser would.
fn flatten_onto_white(image: &DynamicImage) -> RgbImage {
    if !image.has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let (c, a) = (u16::from(c), u16::from(a));
            ((c * a + 255 * (255 - a) + 127) / 255) as u8
        };
        Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn transparency_is_flattened_onto_white() {
        let mut rgba = RgbaImage::new(2, 1);
        rgba.put_pixel(0, 0, Rgba([0, 0, 0, 0]));
        rgba.put_pixel(1, 0, Rgba([0, 0, 0, 255]));
        let flat = flatten_onto_white(&DynamicImage::ImageRgba8(rgba));
        assert_eq!(flat.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(flat.get_pixel(1, 0).0, [0, 0, 0]);
    }
}
