//! The image inbox and a study's parts as the REST API shows them: an organization's studies,
//! one study with its series (every view audited), instances, de-identified files, rendered
//! and raw frames, waveforms and thumbnails, each behind `DicomService::visible_study`.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use renkei_core::Uuid;
use renkei_core::dicom::{Instance, Series, Study};
use renkei_dicom::render::{RawFrame, RenderError, RenderOptions, WaveformGroup};
use renkei_store::blobs::BlobError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::Services;
use crate::auth::session::Authed;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// Studies per inbox page when the caller names no limit, and the most they may ask for.
const INBOX_PAGE: (i64, i64) = (50, 200);

/// A study with its series, as the viewer opens it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudyDetail {
    #[serde(flatten)]
    pub study: Study,
    pub series: Vec<Series>,
}

/// A renderer's refusal: a frame, pixel data or waveform that is not there is 404, bad
/// options 400, anything else an instance we cannot draw (422).
pub fn render_error(e: RenderError) -> ServiceError {
    let kind = match e.code() {
        "dicom_frame_out_of_range" | "dicom_no_pixel_data" | "dicom_no_waveform" => Kind::NotFound,
        "dicom_invalid_render_options" => Kind::BadRequest,
        _ => Kind::Invalid,
    };
    ServiceError::new(kind, e.code(), e.to_string())
}

/// Runs a renderer's blocking `work` off the runtime.
pub(crate) async fn rendering<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, RenderError> + Send + 'static,
) -> ServiceResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServiceError::internal(&e))?
        .map_err(render_error)
}

/// The caller's organization's studies, newest first (`limit` 1–200, default 50).
pub async fn inbox(
    state: &Services,
    me: &Authed,
    offset: Option<i64>,
    limit: Option<i64>,
) -> ServiceResult<Vec<Study>> {
    let (default, most) = INBOX_PAGE;
    let limit = limit.unwrap_or(default).clamp(1, most);
    state
        .store
        .studies(me.user.org_id, offset.unwrap_or(0).max(0), limit)
        .await
        .or_service("study_not_found")
}

/// The study `id` if the caller may see it (not audited: a card shows no image).
pub async fn card(state: &Services, me: &Authed, id: Uuid) -> ServiceResult<Study> {
    state
        .dicom
        .visible_study(id, me.user.id, me.user.org_id)
        .await
}

/// One study and its series; the view is audited (in the owner's log too, for another
/// organization's study).
pub async fn detail(state: &Services, me: &Authed, id: Uuid) -> ServiceResult<StudyDetail> {
    let study = card(state, me, id).await?;
    let series = state
        .store
        .series_of(id)
        .await
        .or_service("study_not_found")?;
    crate::dicomweb::record_view(&state.store, me, &study, serde_json::json!({})).await?;
    Ok(StudyDetail { study, series })
}

/// The instances of one series of a study the caller may see.
pub async fn instances(
    state: &Services,
    me: &Authed,
    id: Uuid,
    series_uid: &str,
) -> ServiceResult<Vec<Instance>> {
    card(state, me, id).await?;
    state
        .store
        .instances_of(id, Some(series_uid))
        .await
        .or_service("study_not_found")
}

/// The de-identified Part 10 bytes of an instance of a study the caller may see.
pub async fn instance_file(
    state: &Services,
    me: &Authed,
    id: Uuid,
    sop_uid: &str,
) -> ServiceResult<BoxStream<'static, Result<Bytes, BlobError>>> {
    card(state, me, id).await?;
    state.dicom.open_instance(id, sop_uid).await
}

/// Frame number `frame` (from 1) as an index; 404 for frame 0.
fn frame_index(frame: u32) -> ServiceResult<u32> {
    frame
        .checked_sub(1)
        .ok_or_else(|| ServiceError::not_found("dicom_frame_out_of_range"))
}

/// Frame `frame` (from 1) of an instance rendered with `options`.
pub async fn rendered_frame(
    state: &Services,
    me: &Authed,
    (id, sop_uid): (Uuid, &str),
    frame: u32,
    options: RenderOptions,
) -> ServiceResult<Vec<u8>> {
    card(state, me, id).await?;
    let index = frame_index(frame)?;
    let obj = state.dicom.parsed_instance(id, sop_uid).await?;
    rendering(move || renkei_dicom::render::render(&obj, index, &options)).await
}

/// Frame `frame` (from 1) of an instance as modality values, for windowing on the client.
pub async fn raw_frame(
    state: &Services,
    me: &Authed,
    (id, sop_uid): (Uuid, &str),
    frame: u32,
) -> ServiceResult<RawFrame> {
    card(state, me, id).await?;
    let index = frame_index(frame)?;
    let obj = state.dicom.parsed_instance(id, sop_uid).await?;
    rendering(move || renkei_dicom::render::raw_frame(&obj, index)).await
}

/// The waveforms of an instance (a 12-lead ECG).
pub async fn waveforms(
    state: &Services,
    me: &Authed,
    (id, sop_uid): (Uuid, &str),
) -> ServiceResult<Vec<WaveformGroup>> {
    card(state, me, id).await?;
    let obj = state.dicom.parsed_instance(id, sop_uid).await?;
    rendering(move || renkei_dicom::render::waveforms(&obj)).await
}

/// The inbox card's thumbnail of a study the caller may see (not audited as a view).
pub async fn thumbnail(state: &Services, me: &Authed, id: Uuid) -> ServiceResult<Bytes> {
    let study = card(state, me, id).await?;
    state.dicom.thumbnail(&study).await
}
