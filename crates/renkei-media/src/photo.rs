//! Photo sanitising: decode within limits, turn upright, re-encode from pixels alone.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageError, ImageFormat, ImageReader};

use crate::error::MediaError;
use crate::header::{ImageHeader, read_header};
use crate::kind::{MediaKind, SNIFF_LEN, sniff};
use crate::limits::Limits;

/// JPEG quality of sanitised photos.
pub const PHOTO_JPEG_QUALITY: u8 = 90;

/// Largest ICC colour profile carried over to the sanitised photo.
const MAX_ICC_PROFILE_BYTES: usize = 256 * 1024;

/// A photo rebuilt from its pixels: upright, with no metadata but its colour profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizedPhoto {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`; store and serve under this type, not the declared one.
    pub mime: &'static str,
    /// What `bytes` are: `Jpeg` or `Png`.
    pub kind: MediaKind,
    /// Width after the orientation was applied.
    pub width: u32,
    /// Height after the orientation was applied.
    pub height: u32,
    /// What the upload was.
    pub source_kind: MediaKind,
    /// The EXIF orientation (1–8) that was applied; 1 when there was none.
    pub applied_orientation: u8,
}

/// A decoded photo, turned upright, with what is needed to re-encode it.
pub(crate) struct UprightPhoto {
    pub image: DynamicImage,
    pub source_kind: MediaKind,
    pub header: ImageHeader,
    pub orientation: image::metadata::Orientation,
    pub icc_profile: Option<Vec<u8>>,
}

/// Strips every piece of metadata from a JPEG, PNG, WebP or GIF (first frame) photo.
///
/// The image is checked against `limits` from its header before anything is decoded, decoded,
/// turned upright according to its EXIF orientation (JPEG APP1, PNG `eXIf`, WebP `EXIF`), and
/// re-encoded from its pixels so that no EXIF, GPS, XMP, IPTC, maker note, comment, text chunk
/// or embedded thumbnail can survive. Only a well-formed ICC colour profile is carried over,
/// so that wide-gamut phone photos (Display P3) keep their colours.
///
/// Output: lossy sources (JPEG, lossy WebP without transparency) become JPEG at quality
/// [`PHOTO_JPEG_QUALITY`]; lossless sources (PNG, GIF, lossless WebP) and images with
/// transparency become PNG.
pub fn sanitize_photo(bytes: &[u8], limits: &Limits) -> Result<SanitizedPhoto, MediaError> {
    let photo = decode_upright(bytes, limits)?;
    sanitize_photo_from_upright(&photo)
}

/// Decodes a photo within `limits` and applies its EXIF orientation.
pub(crate) fn decode_upright(bytes: &[u8], limits: &Limits) -> Result<UprightPhoto, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::EmptyFile);
    }
    let size = bytes.len() as u64;
    if size > limits.max_photo_bytes {
        return Err(MediaError::FileTooLarge {
            size,
            max: limits.max_photo_bytes,
        });
    }
    let source_kind = sniff(&bytes[..bytes.len().min(SNIFF_LEN)]);
    let format = match source_kind {
        MediaKind::Jpeg => ImageFormat::Jpeg,
        MediaKind::Png => ImageFormat::Png,
        MediaKind::WebP => ImageFormat::WebP,
        MediaKind::Gif => ImageFormat::Gif,
        other => {
            return Err(MediaError::UnsupportedType {
                kind: other.as_str(),
            });
        }
    };
    let header = read_header(source_kind, bytes)?;
    check_dimensions(header.width, header.height, limits)?;

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.for_image_crate());
    let mut decoder = reader.into_decoder().map_err(from_image_error)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    let mut allocation = limits.for_image_crate();
    allocation
        .reserve(decoder.total_bytes())
        .map_err(|_| MediaError::too_large("the decoded image would exceed the memory limit"))?;
    // Unreadable EXIF is not a reason to refuse a photo: it is discarded anyway.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let icc_profile = decoder
        .icc_profile()
        .ok()
        .flatten()
        .filter(|profile| is_plausible_icc_profile(profile));
    let mut image = DynamicImage::from_decoder(decoder).map_err(from_image_error)?;
    image.apply_orientation(orientation);
    Ok(UprightPhoto {
        image,
        source_kind,
        header,
        orientation,
        icc_profile,
    })
}

/// Refuses dimensions beyond the limits, before any pixel buffer exists.
fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<(), MediaError> {
    let pixels = u64::from(width) * u64::from(height);
    if width > limits.max_width || height > limits.max_height || pixels > limits.max_pixels {
        return Err(MediaError::too_large(format!(
            "{width}x{height} pixels; at most {}x{} and {} pixels are accepted",
            limits.max_width, limits.max_height, limits.max_pixels
        )));
    }
    Ok(())
}

/// An ICC profile whose declared size matches and which carries the `acsp` signature.
fn is_plausible_icc_profile(profile: &[u8]) -> bool {
    let declared_size = profile
        .get(0..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes);
    profile.len() <= MAX_ICC_PROFILE_BYTES
        && declared_size == Some(profile.len() as u32)
        && profile.get(36..40) == Some(b"acsp".as_slice())
}

/// Re-encodes a decoded upright photo from its pixels.
pub(crate) fn sanitize_photo_from_upright(
    photo: &UprightPhoto,
) -> Result<SanitizedPhoto, MediaError> {
    let image = &photo.image;
    let as_png =
        photo.header.lossless || (image.has_alpha() && photo.source_kind != MediaKind::Jpeg);
    let mut bytes = Vec::new();
    let kind = if as_png {
        let mut encoder =
            PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, FilterType::Adaptive);
        if let Some(profile) = &photo.icc_profile {
            // An encoder that cannot embed a profile still produces a valid image.
            let _ = encoder.set_icc_profile(profile.clone());
        }
        png_compatible(image)
            .write_with_encoder(encoder)
            .map_err(encode_error)?;
        MediaKind::Png
    } else {
        encode_jpeg(
            image,
            PHOTO_JPEG_QUALITY,
            photo.icc_profile.clone(),
            &mut bytes,
        )?;
        MediaKind::Jpeg
    };
    Ok(SanitizedPhoto {
        bytes,
        mime: kind.mime(),
        kind,
        width: image.width(),
        height: image.height(),
        source_kind: photo.source_kind,
        applied_orientation: photo.orientation.to_exif(),
    })
}

/// Encodes 8-bit grey or RGB JPEG (alpha, if any, is dropped).
pub(crate) fn encode_jpeg(
    image: &DynamicImage,
    quality: u8,
    icc_profile: Option<Vec<u8>>,
    out: &mut Vec<u8>,
) -> Result<(), MediaError> {
    let mut encoder = JpegEncoder::new_with_quality(out, quality);
    if let Some(profile) = icc_profile {
        let _ = encoder.set_icc_profile(profile);
    }
    let pixels = match image {
        DynamicImage::ImageLuma8(_) => image.clone(),
        DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageRgb8(_) => image.clone(),
        _ => DynamicImage::ImageRgb8(image.to_rgb8()),
    };
    pixels.write_with_encoder(encoder).map_err(encode_error)
}

/// PNG takes 8- and 16-bit grey, grey+alpha, RGB and RGBA; anything else becomes RGBA8.
fn png_compatible(image: &DynamicImage) -> std::borrow::Cow<'_, DynamicImage> {
    match image {
        DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => {
            std::borrow::Cow::Owned(DynamicImage::ImageRgba8(image.to_rgba8()))
        }
        _ => std::borrow::Cow::Borrowed(image),
    }
}

fn encode_error(error: ImageError) -> MediaError {
    MediaError::EncodeFailed {
        detail: error.to_string(),
    }
}

/// Maps the `image` crate's errors to stable codes.
pub(crate) fn from_image_error(error: ImageError) -> MediaError {
    match error {
        ImageError::Limits(limit) => MediaError::too_large(limit.to_string()),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::TruncatedImage
        }
        ImageError::Unsupported(unsupported) => MediaError::UnsupportedImageFeature {
            detail: unsupported.to_string(),
        },
        other => MediaError::corrupt(other.to_string()),
    }
}
