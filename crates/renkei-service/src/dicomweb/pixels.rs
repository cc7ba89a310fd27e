//! WADO-RS pixels: frames as uncompressed bytes or as stored, bulk data by tag, and rendered frames (the
//! one renderer, `renkei_dicom::render`); each request's pixel view audited (throttled).

use std::sync::Arc;

use dicom_core::Tag;
use dicom_object::DefaultDicomObject;
use renkei_dicom::render::{
    EXPLICIT_VR_LITTLE_ENDIAN, FramesAs, RenderError, RenderOptions, frame_count, frames_as,
    native_frame, stored_frame,
};

use super::{audit_pixels, instance_in, study_by_uid};
use crate::Services;
use crate::auth::session::Authed;
use crate::error::{Kind, ServiceError, ServiceResult};
use crate::studies::rendering;

/// An instance by its UIDs: study, series, SOP instance.
pub type InstanceUids = (String, String, String);

/// What bulk data holds: every frame (Pixel Data), or one binary value.
pub enum Bulk {
    Frames(Vec<Vec<u8>>),
    Value(Vec<u8>),
}

/// An instance the caller may see, parsed; the pixel view is audited.
async fn pixels_of(
    state: &Services,
    me: &Authed,
    (study_uid, series_uid, sop_uid): &InstanceUids,
) -> ServiceResult<Arc<DefaultDicomObject>> {
    let study = study_by_uid(state, me, study_uid).await?;
    instance_in(state, &study, series_uid, sop_uid).await?;
    let obj = state.dicom.parsed_instance(study.id, sop_uid).await?;
    audit_pixels(state, me, &study).await?;
    Ok(obj)
}

/// `404` when a frame (from 0) lies past the instance's last.
fn in_range(list: &[u32], frames: u32) -> ServiceResult<()> {
    match list.iter().find(|f| **f >= frames) {
        Some(f) => Err(ServiceError::new(
            Kind::NotFound,
            "dicom_frame_out_of_range",
            format!("frame {} asked for, the instance has {frames}", f + 1),
        )),
        None => Ok(()),
    }
}

/// `one` (a frame's bytes from its index) for each frame of `list`, off the async threads.
async fn each_frame(
    obj: Arc<DefaultDicomObject>,
    list: Vec<u32>,
    one: fn(&DefaultDicomObject, u32) -> Result<Vec<u8>, RenderError>,
) -> ServiceResult<Vec<Vec<u8>>> {
    rendering(move || {
        list.into_iter()
            .map(|f| one(&obj, f))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
}

/// Frames in one transfer syntax.
pub struct Frames {
    /// The transfer syntax UID of every frame's bytes.
    pub transfer_syntax: String,
    pub frames: Vec<Vec<u8>>,
}

/// The frames `list` (from 0), in the first of the `accepted` transfer syntaxes (`*`: any;
/// none: Explicit VR Little Endian) that can be given: as stored for a compressed instance,
/// else decoded to uncompressed little-endian bytes. 406 when none can.
pub async fn frames(
    state: &Services,
    me: &Authed,
    uids: &InstanceUids,
    list: Vec<u32>,
    accepted: &[String],
) -> ServiceResult<Frames> {
    let obj = pixels_of(state, me, uids).await?;
    in_range(&list, frame_count(&obj))?;
    let stored = obj.meta().transfer_syntax().trim_end_matches(['\0', ' ']);
    let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
    match frames_as(stored, &accepted) {
        Some(FramesAs::Uncompressed) => Ok(Frames {
            transfer_syntax: EXPLICIT_VR_LITTLE_ENDIAN.to_string(),
            frames: each_frame(obj, list, native_frame).await?,
        }),
        Some(FramesAs::Stored(transfer_syntax)) => Ok(Frames {
            transfer_syntax,
            frames: each_frame(obj, list, stored_frame).await?,
        }),
        None => Err(ServiceError::new(
            Kind::NotAcceptable,
            "dicom_transfer_syntax_not_available",
            format!(
                "the frames are available in {EXPLICIT_VR_LITTLE_ENDIAN} (decoded) or {stored} (as stored)"
            ),
        )),
    }
}

/// A top-level binary value; Pixel Data gives every frame as [`frames`] does.
pub async fn bulkdata(
    state: &Services,
    me: &Authed,
    uids: &InstanceUids,
    tag: Tag,
) -> ServiceResult<Bulk> {
    let obj = pixels_of(state, me, uids).await?;
    if tag == dicom_dictionary_std::tags::PIXEL_DATA {
        let count = frame_count(&obj);
        if count == 0 {
            return Err(ServiceError::not_found("bulkdata_not_found"));
        }
        return Ok(Bulk::Frames(
            each_frame(obj, (0..count).collect(), native_frame).await?,
        ));
    }
    obj.element(tag)
        .ok()
        .and_then(|e| e.value().to_bytes().ok().map(|b| b.into_owned()))
        .map(Bulk::Value)
        .ok_or_else(|| ServiceError::not_found("bulkdata_not_found"))
}

/// Frame `index` (from 0; an instance without frames counts as one) rendered with `options`.
pub async fn rendered(
    state: &Services,
    me: &Authed,
    uids: &InstanceUids,
    index: u32,
    options: RenderOptions,
) -> ServiceResult<Vec<u8>> {
    let obj = pixels_of(state, me, uids).await?;
    in_range(&[index], frame_count(&obj).max(1))?;
    rendering(move || renkei_dicom::render::render(&obj, index, &options)).await
}
