//! RLE Lossless (PS3.5 Annex G) for one frame, at any Bits Allocated (dicom-pixeldata's RLE
//! decoder stops at 16): byte segments, most significant first, PackBits-decoded.

use super::error::RenderError;

fn corrupt(reason: String) -> RenderError {
    RenderError::CorruptPixelData(format!("RLE: {reason}"))
}

/// Decode one RLE fragment into `pixels × samples` little-endian samples of `bytes_per_sample`
/// bytes, pixel-interleaved.
pub(crate) fn decode_rle_frame(
    fragment: &[u8],
    pixels: usize,
    samples: usize,
    bytes_per_sample: usize,
) -> Result<Vec<u8>, RenderError> {
    let header: Vec<usize> = fragment
        .get(..64)
        .ok_or_else(|| corrupt("fragment shorter than its 64-byte header".into()))?
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let segments = samples * bytes_per_sample;
    if header.first() != Some(&segments) {
        return Err(corrupt(format!(
            "header declares {} segments, {segments} expected",
            header.first().copied().unwrap_or(0)
        )));
    }
    let offsets = header.get(1..=segments).unwrap_or(&[]);
    let mut out = vec![0u8; pixels * segments];
    let mut segment_bytes = Vec::with_capacity(pixels);
    for (k, &start) in offsets.iter().enumerate() {
        let end = offsets.get(k + 1).copied().unwrap_or(fragment.len());
        let data = fragment
            .get(start..end.max(start).min(fragment.len()))
            .filter(|_| start >= 64 && start <= fragment.len())
            .ok_or_else(|| corrupt(format!("segment {k} lies outside the fragment")))?;
        unpack_bits(data, pixels, &mut segment_bytes);
        if segment_bytes.len() < pixels {
            return Err(corrupt(format!(
                "segment {k} decodes to {} bytes, {pixels} expected",
                segment_bytes.len()
            )));
        }
        // Segment k holds byte (bytes_per_sample - 1 - k % bps) of sample k / bps.
        let sample = k / bytes_per_sample;
        let byte = bytes_per_sample - 1 - k % bytes_per_sample;
        let stride = segments;
        let base = sample * bytes_per_sample + byte;
        for (p, &b) in segment_bytes.iter().take(pixels).enumerate() {
            if let Some(slot) = out.get_mut(p * stride + base) {
                *slot = b;
            }
        }
    }
    Ok(out)
}

/// PackBits: n ≥ 0 copies n + 1 literal bytes, −127 ≤ n ≤ −1 repeats the next byte 1 − n
/// times, −128 does nothing. Stops once `limit` bytes are out.
fn unpack_bits(data: &[u8], limit: usize, out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < data.len() && out.len() < limit {
        let n = data[i] as i8;
        i += 1;
        if n >= 0 {
            let count = n as usize + 1;
            let end = (i + count).min(data.len());
            out.extend_from_slice(&data[i..end]);
            i = end;
        } else if n != -128 {
            let count = 1 + n.unsigned_abs() as usize;
            if let Some(&b) = data.get(i) {
                out.extend(std::iter::repeat_n(b, count));
            }
            i += 1;
        }
    }
    out.truncate(limit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packbits() {
        let mut out = Vec::new();
        unpack_bits(&[2, 1, 2, 3, 0xFE, 9, 0x80, 0, 7], 100, &mut out);
        assert_eq!(out, vec![1, 2, 3, 9, 9, 9, 7]);
    }

    #[test]
    fn sixteen_bit_segments_are_most_significant_first() {
        let mut fragment = vec![0u8; 64];
        fragment[0] = 2;
        fragment[4..8].copy_from_slice(&64u32.to_le_bytes());
        fragment[8..12].copy_from_slice(&67u32.to_le_bytes());
        fragment.extend_from_slice(&[1, 0x12, 0x34]); // high bytes
        fragment.extend_from_slice(&[1, 0x56, 0x78]); // low bytes
        let out = decode_rle_frame(&fragment, 2, 1, 2).unwrap_or_default();
        assert_eq!(out, vec![0x56, 0x12, 0x78, 0x34]);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode_rle_frame(&[1, 2, 3], 4, 1, 1).is_err());
        let mut fragment = vec![0u8; 64];
        fragment[0] = 1;
        fragment[4..8].copy_from_slice(&9999u32.to_le_bytes());
        assert!(decode_rle_frame(&fragment, 4, 1, 1).is_err());
    }
}
