//! Colour display: RGB and YBR_FULL samples, and PALETTE COLOR indices, to 8-bit RGB.

use dicom_core::Tag;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use super::error::RenderError;
use super::frame::Samples;

/// Samples of `bits_stored` bits, unsigned (signed colour is clamped at 0), to 8 bits.
fn sample_to_u8(s: i64, bits_stored: u16) -> u8 {
    let s = s.max(0);
    if bits_stored > 8 {
        (s >> (bits_stored - 8)).min(255) as u8
    } else if bits_stored < 8 {
        ((s * 255) / ((1i64 << bits_stored) - 1)).min(255) as u8
    } else {
        s.min(255) as u8
    }
}

/// RGB samples as 8-bit RGB.
pub(crate) fn rgb_to_rgb8(data: &Samples, bits_stored: u16) -> Vec<u8> {
    match data {
        Samples::U8(v) if bits_stored == 8 => v.clone(),
        _ => (0..data.len())
            .map(|i| sample_to_u8(data.get(i).unwrap_or(0), bits_stored))
            .collect(),
    }
}

/// Full-range Y Cb Cr (PS3.3 C.7.6.3.1.2) to RGB, in 16.16 fixed point.
pub(crate) fn ybr_full_to_rgb8(data: &Samples, bits_stored: u16) -> Vec<u8> {
    let ycc = rgb_to_rgb8(data, bits_stored);
    let mut out = Vec::with_capacity(ycc.len());
    for p in ycc.chunks_exact(3) {
        let y = i32::from(p[0]) << 16;
        let cb = i32::from(p[1]) - 128;
        let cr = i32::from(p[2]) - 128;
        let r = y + 91_881 * cr;
        let g = y - 22_554 * cb - 46_802 * cr;
        let b = y + 116_130 * cb;
        for c in [r, g, b] {
            out.push(((c + (1 << 15)) >> 16).clamp(0, 255) as u8);
        }
    }
    out
}

/// One channel of a Palette Color Lookup Table, reduced to 8-bit entries.
struct Channel {
    first_mapped: i64,
    entries: Vec<u8>,
}

impl Channel {
    fn read(obj: &InMemDicomObject, descriptor: Tag, data: Tag) -> Result<Self, RenderError> {
        let invalid =
            |reason| RenderError::attribute("(0028,1101-1203)", "Palette Color LUT", reason);
        let desc: Vec<i64> = obj
            .get(descriptor)
            .and_then(|e| e.to_multi_int::<i64>().ok())
            .ok_or_else(|| invalid("descriptor missing"))?;
        let [count, first, bits, ..] = desc[..] else {
            return Err(invalid("descriptor needs 3 values"));
        };
        // The descriptor's first value is US or SS: 0 means 65536 entries.
        let count = match count {
            0 => 65_536,
            c if c < 0 => c + 65_536,
            c => c,
        } as usize;
        let first_mapped = if first < 0 { first + 65_536 } else { first };
        let words: Vec<u16> = match obj.get(data).map(|e| e.value()) {
            Some(Value::Primitive(PrimitiveValue::U16(w))) => w.to_vec(),
            Some(Value::Primitive(p)) => p
                .to_bytes()
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
            _ => {
                if obj
                    .get(tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA)
                    .is_some()
                {
                    return Err(RenderError::UnsupportedPixelFormat(
                        "segmented palette colour lookup tables".into(),
                    ));
                }
                return Err(invalid("data missing"));
            }
        };
        let entries: Vec<u8> = if bits == 8 {
            if words.len() * 2 == count || words.len() * 2 == count + 1 {
                // Two 8-bit entries packed in each 16-bit word.
                words
                    .iter()
                    .flat_map(|w| w.to_le_bytes())
                    .take(count)
                    .collect()
            } else {
                words.iter().map(|w| (*w & 0xFF) as u8).collect()
            }
        } else {
            words.iter().map(|w| (w >> 8) as u8).collect()
        };
        if entries.is_empty() {
            return Err(invalid("empty table"));
        }
        Ok(Channel {
            first_mapped,
            entries,
        })
    }

    fn look(&self, index: i64) -> u8 {
        let last = self.entries.len() - 1;
        let i = (index - self.first_mapped).clamp(0, last as i64) as usize;
        self.entries.get(i).copied().unwrap_or(0)
    }
}

/// PALETTE COLOR indices through the object's Red, Green and Blue tables.
pub(crate) fn palette_to_rgb8(
    obj: &InMemDicomObject,
    data: &Samples,
) -> Result<Vec<u8>, RenderError> {
    let red = Channel::read(
        obj,
        tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    )?;
    let green = Channel::read(
        obj,
        tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    )?;
    let blue = Channel::read(
        obj,
        tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
        tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
    )?;
    let mut out = Vec::with_capacity(data.len() * 3);
    for i in 0..data.len() {
        let s = data.get(i).unwrap_or(0);
        out.extend_from_slice(&[red.look(s), green.look(s), blue.look(s)]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ybr_grey_stays_grey() {
        let out = ybr_full_to_rgb8(&Samples::U8(vec![100, 128, 128, 0, 128, 128]), 8);
        assert_eq!(out, vec![100, 100, 100, 0, 0, 0]);
    }

    #[test]
    fn ybr_red() {
        // Pure red in full-range YCbCr (ITU-R BT.601): Y 76, Cb 85, Cr 255.
        let out = ybr_full_to_rgb8(&Samples::U8(vec![76, 85, 255]), 8);
        assert!(out[0] >= 250 && out[1] <= 3 && out[2] <= 3, "{out:?}");
    }

    #[test]
    fn sixteen_bit_rgb_is_narrowed() {
        let out = rgb_to_rgb8(&Samples::U16(vec![65535, 32768, 0]), 16);
        assert_eq!(out, vec![255, 128, 0]);
    }
}
