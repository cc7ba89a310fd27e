//! Rendering a frame for display: 8-bit grey or RGB pixels, fitted to a viewport, encoded as
//! PNG or JPEG.

use dicom_object::DefaultDicomObject;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::{FilterType, resize};
use image::{ExtendedColorType, ImageBuffer, ImageEncoder, Luma, Rgb};
use serde::{Deserialize, Serialize};

use super::color::{palette_to_rgb8, rgb_to_rgb8, ybr_full_to_rgb8};
use super::error::RenderError;
use super::frame::decode_frame;
use super::grey::{Window, to_display};
use super::info::{Photometric, Rescale, VoiFunction, window_presets};

/// The encoded image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ImageFormat {
    /// Lossless; the fastest compression level.
    #[default]
    Png,
    /// Baseline JPEG, quality 1 to 100.
    Jpeg { quality: u8 },
}

/// How to render a frame.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RenderOptions {
    /// Window (center, width) in modality units (after Rescale Slope/Intercept), applied as the
    /// standard's LINEAR function. `None`: the object's first Window Center/Width, else the
    /// frame's minimum to maximum. Ignored for colour images. Width must be above 0.
    pub window: Option<(f64, f64)>,
    /// The VOI LUT function of `window` (default LINEAR, LINEAR_EXACT below width 1).
    #[serde(default)]
    pub window_function: Option<VoiFunction>,
    pub format: ImageFormat,
    /// Largest (width, height): larger frames are scaled down keeping their aspect ratio;
    /// smaller ones are never enlarged.
    pub viewport: Option<(u32, u32)>,
}

/// 8-bit display pixels, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct DisplayImage {
    pub width: u32,
    pub height: u32,
    /// 1 (grey) or 3 (RGB, interleaved).
    pub channels: u8,
    pub pixels: Vec<u8>,
}

/// Frame `frame` of `obj` as display pixels (window, inversion and colour conversion applied,
/// fitted to the viewport), not encoded.
pub fn display_frame(
    obj: &DefaultDicomObject,
    frame: u32,
    options: &RenderOptions,
) -> Result<DisplayImage, RenderError> {
    validate(options)?;
    let decoded = decode_frame(obj, frame)?;
    let (channels, pixels) = match &decoded.photometric {
        Photometric::Monochrome1 | Photometric::Monochrome2 => {
            let Some(range) = decoded.data.min_max() else {
                return Err(RenderError::CorruptPixelData("empty frame".into()));
            };
            let rescale = Rescale::of_frame(obj, frame);
            let window = choose_window(obj, frame, options, rescale, range);
            let invert = decoded.photometric == Photometric::Monochrome1;
            (1, to_display(&decoded.data, rescale, window, invert, range))
        }
        Photometric::PaletteColor => (3, palette_to_rgb8(obj, &decoded.data)?),
        Photometric::Rgb => (3, rgb_to_rgb8(&decoded.data, decoded.bits_stored)),
        Photometric::YbrFull => (3, ybr_full_to_rgb8(&decoded.data, decoded.bits_stored)),
        Photometric::Other(name) => {
            return Err(RenderError::UnsupportedPixelFormat(format!(
                "photometric interpretation {name}"
            )));
        }
    };
    let image = DisplayImage {
        width: decoded.columns,
        height: decoded.rows,
        channels,
        pixels,
    };
    Ok(match options.viewport {
        Some((max_w, max_h)) => fit(image, max_w, max_h),
        None => image,
    })
}

/// Frame `frame` of `obj` rendered and encoded as `options.format`.
pub fn render(
    obj: &DefaultDicomObject,
    frame: u32,
    options: &RenderOptions,
) -> Result<Vec<u8>, RenderError> {
    let image = display_frame(obj, frame, options)?;
    encode(&image, options.format)
}

fn validate(options: &RenderOptions) -> Result<(), RenderError> {
    if let Some((center, width)) = options.window
        && (!center.is_finite() || !width.is_finite() || width <= 0.0)
    {
        return Err(RenderError::InvalidOptions(
            "window center must be finite and width above 0",
        ));
    }
    if let ImageFormat::Jpeg { quality } = options.format
        && !(1..=100).contains(&quality)
    {
        return Err(RenderError::InvalidOptions("JPEG quality must be 1 to 100"));
    }
    if let Some((w, h)) = options.viewport
        && (w == 0 || h == 0)
    {
        return Err(RenderError::InvalidOptions("viewport must be at least 1×1"));
    }
    Ok(())
}

/// The request's window, else the object's first preset, else the frame's full range.
fn choose_window(
    obj: &DefaultDicomObject,
    frame: u32,
    options: &RenderOptions,
    rescale: Rescale,
    (lo, hi): (i64, i64),
) -> Window {
    if let Some((center, width)) = options.window {
        let function = options.window_function.unwrap_or(if width >= 1.0 {
            VoiFunction::Linear
        } else {
            VoiFunction::LinearExact
        });
        return Window {
            center,
            width,
            function,
        };
    }
    if let Some(preset) = window_presets(obj, frame).first() {
        return Window {
            center: preset.center,
            width: preset.width,
            function: preset.function,
        };
    }
    let (a, b) = (rescale.apply(lo as f64), rescale.apply(hi as f64));
    Window::spanning(a.min(b), a.max(b))
}

/// The size that fits `width`×`height` into `max_w`×`max_h` keeping the aspect ratio.
pub fn fitted_size(width: u32, height: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    if width <= max_w && height <= max_h {
        return (width, height);
    }
    let scale = (f64::from(max_w) / f64::from(width)).min(f64::from(max_h) / f64::from(height));
    let w = (f64::from(width) * scale)
        .round()
        .clamp(1.0, f64::from(max_w));
    let h = (f64::from(height) * scale)
        .round()
        .clamp(1.0, f64::from(max_h));
    (w as u32, h as u32)
}

fn fit(image: DisplayImage, max_w: u32, max_h: u32) -> DisplayImage {
    let (w, h) = fitted_size(image.width, image.height, max_w, max_h);
    if (w, h) == (image.width, image.height) {
        return image;
    }
    let pixels = if image.channels == 1 {
        ImageBuffer::<Luma<u8>, _>::from_raw(image.width, image.height, image.pixels)
            .map(|buf| resize(&buf, w, h, FilterType::Triangle).into_raw())
    } else {
        ImageBuffer::<Rgb<u8>, _>::from_raw(image.width, image.height, image.pixels)
            .map(|buf| resize(&buf, w, h, FilterType::Triangle).into_raw())
    };
    match pixels {
        Some(pixels) => DisplayImage {
            width: w,
            height: h,
            channels: image.channels,
            pixels,
        },
        // Unreachable: the buffer always holds width × height × channels bytes.
        None => DisplayImage {
            width: w,
            height: h,
            channels: image.channels,
            pixels: vec![0; w as usize * h as usize * usize::from(image.channels)],
        },
    }
}

/// Encode display pixels.
pub fn encode(image: &DisplayImage, format: ImageFormat) -> Result<Vec<u8>, RenderError> {
    let color = if image.channels == 1 {
        ExtendedColorType::L8
    } else {
        ExtendedColorType::Rgb8
    };
    let mut out = Vec::with_capacity(image.pixels.len() / 2);
    let result = match format {
        ImageFormat::Png => {
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Adaptive)
                .write_image(&image.pixels, image.width, image.height, color)
        }
        ImageFormat::Jpeg { quality } => JpegEncoder::new_with_quality(&mut out, quality)
            .write_image(&image.pixels, image.width, image.height, color),
    };
    result.map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_keeps_the_aspect_ratio() {
        assert_eq!(fitted_size(512, 512, 256, 256), (256, 256));
        assert_eq!(fitted_size(1024, 256, 512, 512), (512, 128));
        assert_eq!(fitted_size(320, 240, 100, 1000), (100, 75));
        assert_eq!(fitted_size(100, 100, 200, 200), (100, 100));
        assert_eq!(fitted_size(10_000, 1, 100, 100), (100, 1));
    }

    #[test]
    fn options_are_checked() {
        let bad = [
            RenderOptions {
                window: Some((40.0, 0.0)),
                ..Default::default()
            },
            RenderOptions {
                format: ImageFormat::Jpeg { quality: 0 },
                ..Default::default()
            },
            RenderOptions {
                viewport: Some((0, 10)),
                ..Default::default()
            },
        ];
        for options in bad {
            assert!(validate(&options).is_err(), "{options:?}");
        }
    }
}
