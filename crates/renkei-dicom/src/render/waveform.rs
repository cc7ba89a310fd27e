//! Waveforms (ECG and the like): each multiplex group's channels, labelled and scaled to µV.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use serde::Serialize;

use super::attrs::{first_item, float, int, items, text};
use super::error::RenderError;

/// One multiplex group of the Waveform Sequence (5400,0100).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveformGroup {
    /// Position in the Waveform Sequence (0-based).
    pub index: usize,
    /// Multiplex Group Label (003A,0020), e.g. `RHYTHM`.
    pub label: Option<String>,
    pub sampling_frequency_hz: f64,
    /// Samples per channel.
    pub number_of_samples: u32,
    /// Multiplex Group Time Offset (0018,1068) in ms, 0 when absent.
    pub time_offset_ms: f64,
    pub channels: Vec<WaveformChannel>,
}

/// One channel of a multiplex group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveformChannel {
    /// Short label: Channel Label (003A,0203), else the source's code meaning without a leading
    /// `Lead ` and a trailing parenthesis (`Lead I (Einthoven)` → `I`), else `Channel N`.
    pub label: String,
    /// Channel Source Sequence (003A,0208) code meaning, e.g. `Lead I (Einthoven)`.
    pub source: Option<String>,
    /// The source's coding scheme and code value, e.g. `SCPECG:5.6.3-9-1`.
    pub source_code: Option<String>,
    /// Channel Sensitivity Units Sequence (003A,0211) code value (UCUM), e.g. `uV`, `mV`, `mm[Hg]`.
    pub units: Option<String>,
    /// Unit of `samples`: `uV` for voltages (converted from the channel's units), else the
    /// channel's units as given; `None` when the channel gives no units.
    pub sample_unit: Option<String>,
    /// Raw sample × Channel Sensitivity × Channel Sensitivity Correction Factor + Channel
    /// Baseline, converted to µV for voltages.
    pub samples: Vec<f32>,
}

/// Every multiplex group of the object's waveform.
pub fn waveforms(obj: &InMemDicomObject) -> Result<Vec<WaveformGroup>, RenderError> {
    let groups = items(obj, tags::WAVEFORM_SEQUENCE);
    if groups.is_empty() {
        return Err(RenderError::NoWaveform);
    }
    groups
        .iter()
        .enumerate()
        .map(|(index, group)| read_group(index, group))
        .collect()
}

fn read_group(index: usize, group: &InMemDicomObject) -> Result<WaveformGroup, RenderError> {
    let invalid = |reason: &str| RenderError::InvalidWaveform {
        group: index,
        reason: reason.to_string(),
    };
    let positive = |tag: Tag, name: &str| {
        int(group, tag)
            .filter(|n| *n > 0)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| invalid(&format!("{name} is missing or not positive")))
    };
    let n_channels = positive(
        tags::NUMBER_OF_WAVEFORM_CHANNELS,
        "Number of Waveform Channels",
    )?;
    let n_samples = positive(
        tags::NUMBER_OF_WAVEFORM_SAMPLES,
        "Number of Waveform Samples",
    )?;
    let frequency = float(group, tags::SAMPLING_FREQUENCY)
        .filter(|f| *f > 0.0)
        .ok_or_else(|| invalid("Sampling Frequency is missing or not positive"))?;
    let bits = int(group, tags::WAVEFORM_BITS_ALLOCATED);
    let interpretation = text(group, tags::WAVEFORM_SAMPLE_INTERPRETATION);
    let kind = match (bits, interpretation.as_deref()) {
        (Some(16), Some("SS")) => SampleKind::I16,
        (Some(16), Some("US")) => SampleKind::U16,
        (Some(8), Some("SB")) => SampleKind::I8,
        (Some(8), Some("UB")) => SampleKind::U8,
        (_, Some(other @ ("MB" | "AB"))) => {
            return Err(invalid(&format!(
                "companded ({other}) samples are not supported"
            )));
        }
        _ => {
            return Err(invalid(
                "Waveform Bits Allocated and Sample Interpretation must be 16 SS/US or 8 SB/UB",
            ));
        }
    };
    let definitions = items(group, tags::CHANNEL_DEFINITION_SEQUENCE);
    if definitions.len() < n_channels {
        return Err(invalid("fewer channel definitions than channels"));
    }
    let data = group
        .get(tags::WAVEFORM_DATA)
        .and_then(|e| e.to_bytes().ok())
        .ok_or_else(|| invalid("Waveform Data is missing"))?;
    let needed = n_channels
        .checked_mul(n_samples)
        .and_then(|n| n.checked_mul(kind.width()))
        .ok_or_else(|| invalid("channel × sample count overflows"))?;
    let data = data
        .get(..needed)
        .ok_or_else(|| invalid("Waveform Data is shorter than channels × samples"))?;

    let channels = definitions
        .iter()
        .take(n_channels)
        .enumerate()
        .map(|(c, def)| read_channel(c, def, data, n_channels, n_samples, kind))
        .collect();
    Ok(WaveformGroup {
        index,
        label: text(group, tags::MULTIPLEX_GROUP_LABEL),
        sampling_frequency_hz: frequency,
        number_of_samples: u32::try_from(n_samples).map_err(|_| invalid("too many samples"))?,
        time_offset_ms: float(group, tags::MULTIPLEX_GROUP_TIME_OFFSET).unwrap_or(0.0),
        channels,
    })
}

#[derive(Debug, Clone, Copy)]
enum SampleKind {
    I16,
    U16,
    I8,
    U8,
}

impl SampleKind {
    fn width(self) -> usize {
        match self {
            SampleKind::I16 | SampleKind::U16 => 2,
            SampleKind::I8 | SampleKind::U8 => 1,
        }
    }

    /// Sample `i` of little-endian `data` (already bounds-checked by the caller).
    fn read(self, data: &[u8], i: usize) -> f64 {
        match self {
            SampleKind::I16 => data
                .get(2 * i..2 * i + 2)
                .map_or(0.0, |b| f64::from(i16::from_le_bytes([b[0], b[1]]))),
            SampleKind::U16 => data
                .get(2 * i..2 * i + 2)
                .map_or(0.0, |b| f64::from(u16::from_le_bytes([b[0], b[1]]))),
            SampleKind::I8 => data.get(i).map_or(0.0, |b| f64::from(*b as i8)),
            SampleKind::U8 => data.get(i).map_or(0.0, |b| f64::from(*b)),
        }
    }
}

fn read_channel(
    c: usize,
    def: &InMemDicomObject,
    data: &[u8],
    n_channels: usize,
    n_samples: usize,
    kind: SampleKind,
) -> WaveformChannel {
    let source_item = first_item(def, tags::CHANNEL_SOURCE_SEQUENCE);
    let source = source_item.and_then(|s| text(s, tags::CODE_MEANING));
    let source_code = source_item.and_then(|s| {
        let value = text(s, tags::CODE_VALUE)?;
        Some(match text(s, tags::CODING_SCHEME_DESIGNATOR) {
            Some(scheme) => format!("{scheme}:{value}"),
            None => value,
        })
    });
    let label = text(def, tags::CHANNEL_LABEL)
        .or_else(|| source.as_deref().map(short_label))
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| format!("Channel {}", c + 1));
    let units = first_item(def, tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE)
        .and_then(|u| text(u, tags::CODE_VALUE));
    let to_microvolts = units.as_deref().and_then(microvolts_per_unit);
    let sample_unit = match to_microvolts {
        Some(_) => Some("uV".to_string()),
        None => units.clone(),
    };
    let sensitivity = float(def, tags::CHANNEL_SENSITIVITY).unwrap_or(1.0);
    let correction = float(def, tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR).unwrap_or(1.0);
    let baseline = float(def, tags::CHANNEL_BASELINE).unwrap_or(0.0);
    let gain = sensitivity * correction;
    let factor = to_microvolts.unwrap_or(1.0);
    let samples = (0..n_samples)
        .map(|t| ((kind.read(data, t * n_channels + c) * gain + baseline) * factor) as f32)
        .collect();
    WaveformChannel {
        label,
        source,
        source_code,
        units,
        sample_unit,
        samples,
    }
}

/// `Lead I (Einthoven)` → `I`, `Lead aVR` → `aVR`.
fn short_label(meaning: &str) -> String {
    let s = meaning.trim();
    let s = s.strip_prefix("Lead ").unwrap_or(s);
    let s = match s.find(" (") {
        Some(i) if s.ends_with(')') => &s[..i],
        _ => s,
    };
    s.trim().to_string()
}

/// Microvolts per unit for UCUM voltage units.
fn microvolts_per_unit(units: &str) -> Option<f64> {
    match units {
        "uV" => Some(1.0),
        "mV" => Some(1_000.0),
        "V" => Some(1_000_000.0),
        "nV" => Some(0.001),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::value::{DataSetSequence, PrimitiveValue};
    use dicom_core::{DataElement, Length, VR};

    fn seq(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
        DataElement::new(tag, VR::SQ, DataSetSequence::new(items, Length::UNDEFINED))
    }

    fn object(elements: Vec<DataElement<InMemDicomObject>>) -> InMemDicomObject {
        InMemDicomObject::from_element_iter(elements)
    }

    /// A group of two channels (mV, sensitivity 0.5, baseline 1 mV; and mm[Hg]) with 3 samples.
    fn group(bits: u16, interpretation: &str, data: PrimitiveValue) -> InMemDicomObject {
        let units = |code: &str| {
            seq(
                tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE,
                vec![object(vec![DataElement::new(
                    tags::CODE_VALUE,
                    VR::SH,
                    code,
                )])],
            )
        };
        let channel = |label: &str, unit: &str| {
            object(vec![
                DataElement::new(tags::CHANNEL_LABEL, VR::SH, label),
                DataElement::new(tags::CHANNEL_SENSITIVITY, VR::DS, "0.5"),
                DataElement::new(tags::CHANNEL_BASELINE, VR::DS, "1"),
                units(unit),
            ])
        };
        let data_vr = if bits == 8 { VR::OB } else { VR::OW };
        let wave = object(vec![
            DataElement::new(
                tags::NUMBER_OF_WAVEFORM_CHANNELS,
                VR::US,
                PrimitiveValue::from(2u16),
            ),
            DataElement::new(
                tags::NUMBER_OF_WAVEFORM_SAMPLES,
                VR::UL,
                PrimitiveValue::from(3u32),
            ),
            DataElement::new(tags::SAMPLING_FREQUENCY, VR::DS, "500"),
            DataElement::new(
                tags::WAVEFORM_BITS_ALLOCATED,
                VR::US,
                PrimitiveValue::from(bits),
            ),
            DataElement::new(tags::WAVEFORM_SAMPLE_INTERPRETATION, VR::CS, interpretation),
            seq(
                tags::CHANNEL_DEFINITION_SEQUENCE,
                vec![channel("Resp", "mV"), channel("ART", "mm[Hg]")],
            ),
            DataElement::new(tags::WAVEFORM_DATA, data_vr, data),
        ]);
        object(vec![seq(tags::WAVEFORM_SEQUENCE, vec![wave])])
    }

    fn samples(obj: &InMemDicomObject) -> (Vec<f32>, Vec<f32>) {
        match waveforms(obj) {
            Ok(groups) => (
                groups[0].channels[0].samples.clone(),
                groups[0].channels[1].samples.clone(),
            ),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn eight_and_sixteen_bit_signed_and_unsigned() {
        // Interleaved: (ch0, ch1) per sample.
        let sb = group(
            8,
            "SB",
            PrimitiveValue::from(vec![0xFEu8, 4, 2, 0x80, 0, 0]),
        );
        let (volts, pressure) = samples(&sb);
        // (-2 × 0.5 + 1) mV = 0 µV; (2 × 0.5 + 1) mV = 2000 µV.
        assert_eq!(volts, vec![0.0, 2000.0, 1000.0]);
        assert_eq!(pressure, vec![3.0, -63.0, 1.0]);
        let ub = group(
            8,
            "UB",
            PrimitiveValue::from(vec![0xFEu8, 4, 2, 0x80, 0, 0]),
        );
        assert_eq!(samples(&ub).0, vec![128_000.0, 2000.0, 1000.0]);
        let ss = group(
            16,
            "SS",
            PrimitiveValue::U16(vec![0xFFFE, 4, 2, 0x8000, 0, 0].into()),
        );
        assert_eq!(samples(&ss).1, vec![3.0, -16_383.0, 1.0]);
        let us = group(
            16,
            "US",
            PrimitiveValue::U16(vec![0xFFFE, 4, 2, 0x8000, 0, 0].into()),
        );
        assert_eq!(samples(&us).0, vec![32_768_000.0, 2000.0, 1000.0]);
        match waveforms(&sb) {
            Ok(groups) => {
                assert_eq!(groups[0].channels[0].sample_unit.as_deref(), Some("uV"));
                assert_eq!(groups[0].channels[1].sample_unit.as_deref(), Some("mm[Hg]"));
                assert_eq!(groups[0].channels[1].label, "ART");
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn short_or_inconsistent_groups_are_errors() {
        let short = group(16, "SS", PrimitiveValue::U16(vec![1, 2, 3].into()));
        let mismatch = group(8, "SS", PrimitiveValue::from(vec![0u8; 6]));
        let companded = group(8, "MB", PrimitiveValue::from(vec![0u8; 6]));
        for obj in [short, mismatch, companded] {
            match waveforms(&obj) {
                Err(e) => assert_eq!(e.code(), "dicom_invalid_waveform"),
                Ok(_) => panic!("an invalid group was read"),
            }
        }
        assert!(matches!(
            waveforms(&InMemDicomObject::new_empty()),
            Err(RenderError::NoWaveform)
        ));
    }

    #[test]
    fn short_labels() {
        assert_eq!(short_label("Lead I (Einthoven)"), "I");
        assert_eq!(short_label("Lead aVR"), "aVR");
        assert_eq!(short_label("Lead V6"), "V6");
        assert_eq!(short_label("Respiration"), "Respiration");
    }
}
