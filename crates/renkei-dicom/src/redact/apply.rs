//! Carrying out a [`Plan`]: every frame decoded, blanked and written back uncompressed, the
//! derivation's attributes set, the file meta pointed at the new instance.

use dicom_core::header::Header;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

use super::error::RedactError;
use super::pixels::{black, blank};
use super::plan::{Edit, Plan};
use crate::render::{
    DecodedFrame, EXPLICIT_VR_LITTLE_ENDIAN, RenderError, Samples, decode_frame, le_bytes,
};

/// The instance derived from `obj` by `plan`.
pub fn apply(obj: &DefaultDicomObject, plan: &Plan) -> Result<DefaultDicomObject, RedactError> {
    let mut pixels = Vec::new();
    let mut first: Option<DecodedFrame> = None;
    for index in 0..plan.frames {
        let mut frame = decode_frame(obj, index)?;
        if frame.bits_allocated == 1 {
            return Err(RenderError::UnsupportedPixelFormat(
                "1-bit pixel data cannot be redacted".into(),
            )
            .into());
        }
        if (frame.rows, frame.columns) != (plan.rows, plan.columns) {
            return Err(RenderError::CorruptPixelData(format!(
                "frame {index} is not {}×{}",
                plan.columns, plan.rows
            ))
            .into());
        }
        let value = black(&frame);
        blank(&mut frame, &plan.rects, value);
        let data = std::mem::replace(&mut frame.data, Samples::U8(Vec::new()));
        pixels.extend_from_slice(&le_bytes(data, frame.bits_allocated));
        if first.is_none() {
            first = Some(frame);
        }
    }
    let Some(layout) = first else {
        return Err(RenderError::NoPixelData.into());
    };
    if pixels.len() % 2 == 1 {
        pixels.push(0);
    }

    let mut meta = obj.meta().clone();
    meta.transfer_syntax = EXPLICIT_VR_LITTLE_ENDIAN.to_owned();
    meta.media_storage_sop_instance_uid = plan.new_uid.clone();
    meta.update_information_group_length();
    let mut out = DefaultDicomObject::new_empty_with_meta(meta);
    for element in obj.iter().filter(|e| e.tag() != tags::PIXEL_DATA) {
        out.put(element.clone());
    }
    for edit in &plan.edits {
        match edit {
            Edit::Put(element) => {
                out.put(element.clone());
            }
            Edit::Remove(tag) => {
                out.remove_element(*tag);
            }
        }
    }
    out.put(DataElement::new(
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        layout.photometric.as_str(),
    ));
    if layout.samples_per_pixel > 1 {
        out.put(DataElement::new(
            tags::PLANAR_CONFIGURATION,
            VR::US,
            PrimitiveValue::from(0u16),
        ));
    }
    out.put(DataElement::new(
        tags::HIGH_BIT,
        VR::US,
        PrimitiveValue::from(layout.bits_stored.saturating_sub(1)),
    ));
    let vr = if layout.bits_allocated > 8 {
        VR::OW
    } else {
        VR::OB
    };
    out.put(DataElement::new(
        tags::PIXEL_DATA,
        vr,
        PrimitiveValue::U8(pixels.into()),
    ));
    Ok(out)
}
