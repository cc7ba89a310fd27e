//! WADO-RS pixels: frames as uncompressed bytes, bulk data by tag, and rendered frames (the
//! one renderer, `renkei_dicom::render`); each request's pixel view audited (throttled).

use std::sync::Arc;

use dicom_core::Tag;
use dicom_object::DefaultDicomObject;
use renkei_dicom::render::{RenderOptions, frame_count, native_frame};

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

async fn native_frames(
    obj: Arc<DefaultDicomObject>,
    list: Vec<u32>,
) -> ServiceResult<Vec<Vec<u8>>> {
    rendering(move || {
        list.into_iter()
            .map(|f| native_frame(&obj, f))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
}

/// The frames `list` (from 0) as uncompressed little-endian bytes.
pub async fn frames(
    state: &Services,
    me: &Authed,
    uids: &InstanceUids,
    list: Vec<u32>,
) -> ServiceResult<Vec<Vec<u8>>> {
    let obj = pixels_of(state, me, uids).await?;
    in_range(&list, frame_count(&obj))?;
    native_frames(obj, list).await
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
            native_frames(obj, (0..count).collect()).await?,
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
