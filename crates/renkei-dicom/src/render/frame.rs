//! Decoding one frame to stored values: native pixel data read in place, compressed pixel data
//! through dicom-pixeldata's codecs (one frame at a time where the codec allows).

use std::panic::{AssertUnwindSafe, catch_unwind};

use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::tags;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::{DefaultDicomObject, InMemDicomObject};
use dicom_pixeldata::PixelDecoder;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::error::RenderError;
use super::info::{Photometric, PixelInfo, number_of_frames};
use super::rle::decode_rle_frame;

const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";
const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";

/// Decoded frames larger than this are refused (a 4096×4096 RGB 16-bit frame is 96 MiB).
pub const MAX_FRAME_BYTES: u64 = 256 * 1024 * 1024;

/// Stored pixel values, masked to Bits Stored and sign-extended when Pixel Representation is 1.
/// Colour samples are pixel-interleaved (R G B R G B …). Signed 8-bit samples are widened to
/// `I16`; 1-bit samples are unpacked to `U8` values 0 and 1.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
}

impl Samples {
    /// Number of samples (pixels × samples per pixel).
    pub fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::U16(v) => v.len(),
            Samples::I16(v) => v.len(),
            Samples::U32(v) => v.len(),
            Samples::I32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `i` widened to i64 (`None` past the end).
    pub fn get(&self, i: usize) -> Option<i64> {
        match self {
            Samples::U8(v) => v.get(i).map(|&s| i64::from(s)),
            Samples::U16(v) => v.get(i).map(|&s| i64::from(s)),
            Samples::I16(v) => v.get(i).map(|&s| i64::from(s)),
            Samples::U32(v) => v.get(i).map(|&s| i64::from(s)),
            Samples::I32(v) => v.get(i).map(|&s| i64::from(s)),
        }
    }

    /// Smallest and largest sample (`None` when empty).
    pub fn min_max(&self) -> Option<(i64, i64)> {
        fn mm<T: Copy + Ord + Into<i64>>(v: &[T]) -> Option<(i64, i64)> {
            let first = *v.first()?;
            let (lo, hi) = v
                .iter()
                .fold((first, first), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            Some((lo.into(), hi.into()))
        }
        match self {
            Samples::U8(v) => mm(v),
            Samples::U16(v) => mm(v),
            Samples::I16(v) => mm(v),
            Samples::U32(v) => mm(v),
            Samples::I32(v) => mm(v),
        }
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFrame {
    pub rows: u32,
    pub columns: u32,
    /// 1 or 3.
    pub samples_per_pixel: u16,
    /// The interpretation of `data`: compressed colour frames come out of their codec as RGB.
    pub photometric: Photometric,
    /// As in the object (1, 8, 16 or 32).
    pub bits_allocated: u16,
    /// As in the object; `data` never has bits above it set (beyond sign extension).
    pub bits_stored: u16,
    /// 0 unsigned, 1 two's complement.
    pub pixel_representation: u16,
    /// rows × columns × samples_per_pixel stored values.
    pub data: Samples,
}

/// Number of frames of the object's pixel data: 0 without Pixel Data, else Number of Frames
/// (0028,0008), 1 when that is absent or unparsable.
pub fn frame_count(obj: &InMemDicomObject) -> u32 {
    if obj.get(tags::PIXEL_DATA).is_none() {
        return 0;
    }
    number_of_frames(obj)
}

/// Decode frame `frame_index` (0-based) to stored values.
pub fn decode_frame(
    obj: &DefaultDicomObject,
    frame_index: u32,
) -> Result<DecodedFrame, RenderError> {
    if obj.get(tags::PIXEL_DATA).is_none() {
        if obj.get(tags::FLOAT_PIXEL_DATA).is_some()
            || obj.get(tags::DOUBLE_FLOAT_PIXEL_DATA).is_some()
        {
            return Err(RenderError::UnsupportedPixelFormat(
                "float pixel data".to_string(),
            ));
        }
        return Err(RenderError::NoPixelData);
    }
    let info = PixelInfo::read(obj)?;
    if frame_index >= info.frames {
        return Err(RenderError::FrameOutOfRange {
            frame: frame_index,
            frames: info.frames,
        });
    }
    let bytes_per_sample = u64::from(info.bits_allocated.div_ceil(8));
    let frame_bytes = info.pixels() as u64 * u64::from(info.samples_per_pixel) * bytes_per_sample;
    if frame_bytes > MAX_FRAME_BYTES {
        return Err(RenderError::FrameTooLarge {
            bytes: frame_bytes,
            limit: MAX_FRAME_BYTES,
        });
    }

    let uid = obj.meta().transfer_syntax.trim_end_matches(['\0', ' ']);
    let ts =
        TransferSyntaxRegistry
            .get(uid)
            .ok_or_else(|| RenderError::UnsupportedTransferSyntax {
                uid: uid.to_string(),
                name: "unknown".to_string(),
            })?;
    if uid == RLE_LOSSLESS {
        decode_rle(obj, &info, frame_index)
    } else if ts.is_encapsulated_pixel_data() {
        if !ts.can_decode_all() {
            return Err(RenderError::UnsupportedTransferSyntax {
                uid: uid.to_string(),
                name: ts.name().to_string(),
            });
        }
        if uid == JPEG_EXTENDED && info.bits_stored > 8 {
            return decode_jpeg12(obj, &info, frame_index);
        }
        decode_encapsulated(obj, &info, frame_index)
    } else {
        let big_endian = ts.endianness() == dicom_encoding::transfer_syntax::Endianness::Big;
        decode_native(obj, &info, frame_index, big_endian)
    }
}

/// A frame of compressed pixel data through dicom-pixeldata. Codecs are third-party code fed
/// untrusted bytes: a panic in one is turned into [`RenderError::CorruptPixelData`].
fn decode_encapsulated(
    obj: &DefaultDicomObject,
    info: &PixelInfo,
    frame: u32,
) -> Result<DecodedFrame, RenderError> {
    if info.bits_allocated == 1 {
        return Err(RenderError::UnsupportedPixelFormat(
            "compressed 1-bit pixel data".to_string(),
        ));
    }
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        obj.decode_pixel_data_frame(frame)
            .map(|px| (px.photometric_interpretation().to_string(), px.into_data()))
    }));
    let (photometric, bytes) = match decoded {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => return Err(RenderError::CorruptPixelData(error_chain(&e))),
        Err(_) => {
            return Err(RenderError::CorruptPixelData(
                "the codec failed on this data".to_string(),
            ));
        }
    };
    let photometric = if info.samples_per_pixel == 3 {
        // Codecs return colour as RGB (JPEG YCbCr, JPEG 2000 RCT/ICT are converted).
        Photometric::Rgb
    } else {
        Photometric::parse(photometric.trim())
    };
    let samples = info.pixels() * usize::from(info.samples_per_pixel);
    let data = samples_from_le_bytes(&bytes, samples, info)?;
    Ok(frame_of(info, photometric, data))
}

/// A frame of RLE Lossless pixel data: one fragment per frame (PS3.5 A.4.2).
fn decode_rle(
    obj: &DefaultDicomObject,
    info: &PixelInfo,
    frame: u32,
) -> Result<DecodedFrame, RenderError> {
    if info.bits_allocated == 1 {
        return Err(RenderError::UnsupportedPixelFormat(
            "RLE-compressed 1-bit pixel data".to_string(),
        ));
    }
    let fragment = frame_fragment(obj, info, frame, "RLE")?;
    let samples = usize::from(info.samples_per_pixel);
    let width = usize::from(info.bits_allocated / 8);
    let bytes = decode_rle_frame(&fragment, info.pixels(), samples, width)?;
    let data = samples_from_le_bytes(&bytes, info.pixels() * samples, info)?;
    Ok(frame_of(info, Photometric::parse(&info.photometric), data))
}

/// The compressed bytes of one frame: its fragment when there is one fragment per frame, all
/// fragments joined for a single frame (PS3.5 A.4).
pub(super) fn frame_fragment<'a>(
    obj: &'a DefaultDicomObject,
    info: &PixelInfo,
    frame: u32,
    codec: &str,
) -> Result<std::borrow::Cow<'a, [u8]>, RenderError> {
    let fragments = obj
        .get(tags::PIXEL_DATA)
        .and_then(|e| e.fragments())
        .ok_or_else(|| {
            RenderError::CorruptPixelData(format!("{codec} pixel data is not encapsulated"))
        })?;
    if fragments.len() == info.frames as usize {
        Ok(fragments
            .get(frame as usize)
            .map_or(std::borrow::Cow::Borrowed(&[][..]), |f| {
                std::borrow::Cow::Borrowed(f.as_slice())
            }))
    } else if info.frames == 1 {
        Ok(std::borrow::Cow::Owned(fragments.concat()))
    } else {
        Err(RenderError::CorruptPixelData(format!(
            "{codec} needs one fragment per frame: {} fragments for {} frames",
            fragments.len(),
            info.frames
        )))
    }
}

/// A frame of 12-bit JPEG Extended (process 4) through libjpeg-turbo-rs, which jpeg-decoder
/// cannot decode (no 12-bit DCT). A panic in the codec is [`RenderError::CorruptPixelData`].
fn decode_jpeg12(
    obj: &DefaultDicomObject,
    info: &PixelInfo,
    frame: u32,
) -> Result<DecodedFrame, RenderError> {
    if info.bits_allocated != 16 {
        return Err(RenderError::UnsupportedPixelFormat(format!(
            "12-bit JPEG in {}-bit samples",
            info.bits_allocated
        )));
    }
    let fragment = frame_fragment(obj, info, frame, "JPEG")?;
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        libjpeg_turbo_rs::decompress_12bit(&fragment)
    }));
    let image = match decoded {
        Ok(Ok(image)) => image,
        Ok(Err(e)) => return Err(RenderError::CorruptPixelData(e.to_string())),
        Err(_) => {
            return Err(RenderError::CorruptPixelData(
                "the codec failed on this data".to_string(),
            ));
        }
    };
    if (image.width, image.height, image.num_components)
        != (
            info.columns as usize,
            info.rows as usize,
            usize::from(info.samples_per_pixel),
        )
    {
        return Err(RenderError::CorruptPixelData(format!(
            "the JPEG frame is {}×{}×{}, the attributes say {}×{}×{}",
            image.width,
            image.height,
            image.num_components,
            info.columns,
            info.rows,
            info.samples_per_pixel
        )));
    }
    let bytes: Vec<u8> = image
        .data
        .iter()
        .flat_map(|s| (*s as u16).to_le_bytes())
        .collect();
    let samples = info.pixels() * usize::from(info.samples_per_pixel);
    let data = samples_from_le_bytes(&bytes, samples, info)?;
    let photometric = if info.samples_per_pixel == 3 {
        Photometric::Rgb
    } else {
        Photometric::parse(&info.photometric)
    };
    Ok(frame_of(info, photometric, data))
}

/// A frame of native (uncompressed) pixel data, sliced out of the element without copying the
/// other frames. dicom-object has already put OW words in native order; 8-bit and 1-bit data in
/// big-endian OW words then reads right byte by byte, but 32-bit samples come as two words
/// whose order is still the file's.
fn decode_native(
    obj: &DefaultDicomObject,
    info: &PixelInfo,
    frame: u32,
    big_endian: bool,
) -> Result<DecodedFrame, RenderError> {
    let Some(element) = obj.get(tags::PIXEL_DATA) else {
        return Err(RenderError::NoPixelData);
    };
    let Value::Primitive(value) = element.value() else {
        return Err(RenderError::CorruptPixelData(
            "native pixel data is not a primitive value".to_string(),
        ));
    };
    let pixels = info.pixels();
    let frame = frame as usize;
    let subsampled = info.photometric == "YBR_FULL_422";
    let photometric = Photometric::parse(&info.photometric);

    if info.bits_allocated == 1 {
        return decode_bits(value, info, frame).map(|d| frame_of(info, photometric, d));
    }
    // Samples in the frame as stored: YBR_FULL_422 keeps 2 samples per pixel (Y Y Cb Cr).
    let stored_samples = if subsampled {
        if info.samples_per_pixel != 3 || !info.columns.is_multiple_of(2) {
            return Err(RenderError::UnsupportedPixelFormat(
                "YBR_FULL_422 needs 3 samples per pixel and an even number of columns".into(),
            ));
        }
        pixels * 2
    } else {
        pixels * usize::from(info.samples_per_pixel)
    };
    let start = stored_samples * frame;
    let end = start + stored_samples;
    let truncated = || {
        RenderError::CorruptPixelData(format!(
            "frame {frame} needs {stored_samples} samples beyond what pixel data holds"
        ))
    };

    let mut data = match (value, info.bits_allocated) {
        // OW read as words: take the frame's words directly.
        (PrimitiveValue::U16(words), 16) => {
            let words = words.get(start..end).ok_or_else(truncated)?;
            normalise_16(words.iter().copied(), info)
        }
        // Big-endian 32-bit samples read as OW: the high word comes first.
        (PrimitiveValue::U16(words), 32) if big_endian => {
            let words = words.get(start * 2..end * 2).ok_or_else(truncated)?;
            let bytes: Vec<u8> = words
                .chunks_exact(2)
                .flat_map(|w| ((u32::from(w[0]) << 16) | u32::from(w[1])).to_le_bytes())
                .collect();
            samples_from_le_bytes(&bytes, stored_samples, info)?
        }
        _ => {
            let bytes = value.to_bytes();
            let width = usize::from(info.bits_allocated / 8);
            let slice = bytes
                .get(start * width..end * width)
                .ok_or_else(truncated)?;
            samples_from_le_bytes(slice, stored_samples, info)?
        }
    };
    if subsampled {
        data = upsample_422(data);
    }
    if info.planar {
        data = interleave_planes(data, pixels);
    }
    Ok(frame_of(info, photometric, data))
}

/// An error and its sources, `: `-separated (dicom-pixeldata's top-level messages are generic).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

fn frame_of(info: &PixelInfo, photometric: Photometric, data: Samples) -> DecodedFrame {
    DecodedFrame {
        rows: info.rows,
        columns: info.columns,
        samples_per_pixel: info.samples_per_pixel,
        photometric,
        bits_allocated: info.bits_allocated,
        bits_stored: info.bits_stored,
        pixel_representation: u16::from(info.signed),
        data,
    }
}

/// 1-bit pixel data, frames packed back to back (least significant bit first).
fn decode_bits(
    value: &PrimitiveValue,
    info: &PixelInfo,
    frame: usize,
) -> Result<Samples, RenderError> {
    let bytes = value.to_bytes();
    let bits = info.pixels() * usize::from(info.samples_per_pixel);
    let first = bits * frame;
    if (first + bits).div_ceil(8) > bytes.len() {
        return Err(RenderError::CorruptPixelData(format!(
            "frame {frame} lies beyond the end of the 1-bit pixel data"
        )));
    }
    let out = (first..first + bits)
        .map(|bit| bytes.get(bit / 8).map_or(0, |b| (b >> (bit % 8)) & 1))
        .collect();
    Ok(Samples::U8(out))
}

/// `count` little-endian samples of Bits Allocated width, masked and sign-extended.
fn samples_from_le_bytes(
    bytes: &[u8],
    count: usize,
    info: &PixelInfo,
) -> Result<Samples, RenderError> {
    let width = usize::from(info.bits_allocated / 8);
    let needed = count * width;
    let Some(bytes) = bytes.get(..needed) else {
        return Err(RenderError::CorruptPixelData(format!(
            "decoded frame has {} bytes, {needed} expected",
            bytes.len()
        )));
    };
    Ok(match info.bits_allocated {
        8 => {
            if info.signed {
                let shift = 8 - info.bits_stored;
                Samples::I16(
                    bytes
                        .iter()
                        .map(|&b| {
                            let v = b >> (info.high_bit + 1 - info.bits_stored);
                            i16::from(((v << shift) as i8) >> shift)
                        })
                        .collect(),
                )
            } else {
                let mask = low_mask(info.bits_stored) as u8;
                let down = info.high_bit + 1 - info.bits_stored;
                Samples::U8(bytes.iter().map(|&b| (b >> down) & mask).collect())
            }
        }
        16 => normalise_16(
            bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]])),
            info,
        ),
        _ => {
            let words = bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            let down = u32::from(info.high_bit + 1 - info.bits_stored);
            if info.signed {
                let shift = 32 - u32::from(info.bits_stored);
                Samples::I32(
                    words
                        .map(|w| (((w >> down) << shift) as i32) >> shift)
                        .collect(),
                )
            } else {
                let mask = low_mask(info.bits_stored);
                Samples::U32(words.map(|w| (w >> down) & mask).collect())
            }
        }
    })
}

fn normalise_16(words: impl Iterator<Item = u16>, info: &PixelInfo) -> Samples {
    let down = info.high_bit + 1 - info.bits_stored;
    if info.signed {
        let shift = 16 - info.bits_stored;
        Samples::I16(
            words
                .map(|w| (((w >> down) << shift) as i16) >> shift)
                .collect(),
        )
    } else {
        let mask = low_mask(info.bits_stored) as u16;
        Samples::U16(words.map(|w| (w >> down) & mask).collect())
    }
}

fn low_mask(bits: u16) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    }
}

/// Y1 Y2 Cb Cr → Y1 Cb Cr Y2 Cb Cr.
fn upsample_422(data: Samples) -> Samples {
    fn up<T: Copy>(v: &[T]) -> Vec<T> {
        let mut out = Vec::with_capacity(v.len() / 2 * 3);
        for q in v.chunks_exact(4) {
            out.extend_from_slice(&[q[0], q[2], q[3], q[1], q[2], q[3]]);
        }
        out
    }
    match data {
        Samples::U8(v) => Samples::U8(up(&v)),
        Samples::U16(v) => Samples::U16(up(&v)),
        Samples::I16(v) => Samples::I16(up(&v)),
        Samples::U32(v) => Samples::U32(up(&v)),
        Samples::I32(v) => Samples::I32(up(&v)),
    }
}

/// Planar configuration 1 (RRR… GGG… BBB…) → pixel-interleaved.
fn interleave_planes(data: Samples, pixels: usize) -> Samples {
    fn inter<T: Copy>(v: &[T], pixels: usize) -> Vec<T> {
        let (r, rest) = v.split_at(pixels.min(v.len()));
        let (g, b) = rest.split_at(pixels.min(rest.len()));
        r.iter()
            .zip(g)
            .zip(b)
            .flat_map(|((r, g), b)| [*r, *g, *b])
            .collect()
    }
    match data {
        Samples::U8(v) => Samples::U8(inter(&v, pixels)),
        Samples::U16(v) => Samples::U16(inter(&v, pixels)),
        Samples::I16(v) => Samples::I16(inter(&v, pixels)),
        Samples::U32(v) => Samples::U32(inter(&v, pixels)),
        Samples::I32(v) => Samples::I32(inter(&v, pixels)),
    }
}
