//! WADO-RS pixels: frames as uncompressed bytes, rendered frames and instances (PNG or JPEG
//! through the one renderer, `renkei_dicom::render`), and bulk data by tag.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use dicom_object::DefaultDicomObject;
use futures_util::stream;
use renkei_core::dicom::Study;
use renkei_dicom::render::{ImageFormat, RenderOptions, VoiFunction, frame_count, native_frame};
use serde::Deserialize;

use super::super::studies::{image_response, pair, render_error};
use super::{accepted, multipart, part, require_accept};
use crate::AppState;
use crate::auth::session::{Authed, Member};
use crate::dicomweb::{audit_pixels, instance_in, study_by_uid};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;

/// Most frames one request may ask for.
const MAX_FRAMES_PER_REQUEST: usize = 1000;
/// Explicit VR Little Endian: what `/frames` bytes are, whatever the instance's syntax.
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

/// An instance the caller may see, parsed, with its study; the pixel view is audited.
async fn pixels_of(
    state: &AppState,
    me: &Authed,
    (study_uid, series_uid, sop_uid): &(String, String, String),
) -> ApiResult<(Study, Arc<DefaultDicomObject>)> {
    let study = study_by_uid(state, me, study_uid).await?;
    instance_in(state, &study, series_uid, sop_uid).await?;
    let obj = state.dicom.parsed_instance(study.id, sop_uid).await?;
    audit_pixels(state, me, &study).await?;
    Ok((study, obj))
}

fn bad_frame(text: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_frame_number",
        format!(
            "frame numbers are whole numbers from 1, separated by commas; got {:?}",
            text.chars().take(40).collect::<String>()
        ),
    )
}

/// `1,3,5` → [0, 2, 4] (0-based), every number checked against the instance's frame count.
fn frame_list(text: &str, frames: u32) -> ApiResult<Vec<u32>> {
    let mut list = Vec::new();
    for item in text.split(',') {
        let n: u32 = item.trim().parse().map_err(|_| bad_frame(text))?;
        if n == 0 {
            return Err(bad_frame(text));
        }
        if n > frames {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "dicom_frame_out_of_range",
                format!("frame {n} asked for, the instance has {frames}"),
            ));
        }
        list.push(n - 1);
    }
    if list.is_empty() || list.len() > MAX_FRAMES_PER_REQUEST {
        return Err(bad_frame(text));
    }
    Ok(list)
}

async fn native_frames(obj: Arc<DefaultDicomObject>, list: Vec<u32>) -> ApiResult<Vec<Vec<u8>>> {
    tokio::task::spawn_blocking(move || {
        list.into_iter()
            .map(|f| native_frame(&obj, f))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(render_error)
}

fn frames_response(frames: Vec<Vec<u8>>) -> Response {
    let part_type = format!("application/octet-stream; transfer-syntax={EXPLICIT_LE}");
    multipart(
        "application/octet-stream",
        &part_type,
        stream::iter(frames.into_iter().map(part)),
    )
}

/// WADO-RS `…/frames/{list}`: the frames (1-based, e.g. `1,3,5`) as uncompressed
/// little-endian bytes, one part each; compressed instances are decoded.
pub async fn frames(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study, series, sop, list)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/octet-stream"])?;
    let (_, obj) = pixels_of(&state, &me, &(study, series, sop)).await?;
    let list = frame_list(&list, frame_count(&obj))?;
    Ok(frames_response(native_frames(obj, list).await?))
}

/// WADO-RS `…/bulkdata/{tag}`: a top-level binary value; Pixel Data gives every frame as
/// `/frames` does.
pub async fn bulkdata(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study, series, sop, tag)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/octet-stream"])?;
    let tag = renkei_dicom::json::parse_tag(&tag).ok_or_else(|| {
        ApiError::bad_request("invalid_tag", "the bulk data tag is not a DICOM tag")
    })?;
    let (_, obj) = pixels_of(&state, &me, &(study, series, sop)).await?;
    if tag == dicom_dictionary_std::tags::PIXEL_DATA {
        let count = frame_count(&obj);
        if count == 0 {
            return Err(ApiError::not_found("bulkdata_not_found"));
        }
        return Ok(frames_response(
            native_frames(obj, (0..count).collect()).await?,
        ));
    }
    let bytes = obj
        .element(tag)
        .ok()
        .and_then(|e| e.value().to_bytes().ok().map(|b| b.into_owned()))
        .ok_or_else(|| ApiError::not_found("bulkdata_not_found"))?;
    Ok(multipart(
        "application/octet-stream",
        "application/octet-stream",
        stream::iter([part(bytes)]),
    ))
}

/// Query parameters of rendered resources (PS3.18 8.3.5.1.2).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderedQuery {
    /// `center,width` or `center,width,function` (`linear`, `linear-exact`, `sigmoid`).
    window: Option<String>,
    /// `width,height` to fit into.
    viewport: Option<String>,
    /// JPEG quality 1–100 (default 85).
    quality: Option<u8>,
    /// Accepted and ignored: no annotations are burned in, no ICC profile is added.
    #[allow(dead_code)]
    annotation: Option<String>,
    #[allow(dead_code)]
    iccprofile: Option<String>,
    #[allow(dead_code)]
    charset: Option<String>,
}

/// The image type to answer with: the first of PNG or JPEG the `Accept` header lists;
/// JPEG (the standard's default) for none or a wildcard; 406 otherwise.
fn rendered_type(headers: &HeaderMap, quality: u8) -> ApiResult<(ImageFormat, &'static str)> {
    let jpeg = (ImageFormat::Jpeg { quality }, "image/jpeg");
    let accepted = accepted(headers);
    if accepted.is_empty() {
        return Ok(jpeg);
    }
    for a in &accepted {
        let essence = a.split(';').next().unwrap_or("");
        match essence {
            "image/png" => return Ok((ImageFormat::Png, "image/png")),
            "image/jpeg" | "image/*" | "*/*" => return Ok(jpeg),
            _ => {}
        }
    }
    Err(ApiError::new(
        StatusCode::NOT_ACCEPTABLE,
        "not_acceptable",
        "rendered images are available as image/jpeg or image/png",
    ))
}

fn render_options(headers: &HeaderMap, q: &RenderedQuery) -> ApiResult<RenderOptions> {
    let quality = q.quality.unwrap_or(85);
    if !(1..=100).contains(&quality) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "quality must be 1 to 100",
        ));
    }
    let (format, _) = rendered_type(headers, quality)?;
    let (window, window_function) = match q.window.as_deref() {
        None => (None, None),
        Some(text) => {
            let mut fields = text.splitn(3, ',');
            let pair_text = [fields.next(), fields.next()]
                .map(|f| f.unwrap_or(""))
                .join(",");
            let function = match fields.next().map(|f| f.trim().to_ascii_lowercase()) {
                None => None,
                Some(f) if f == "linear" => Some(VoiFunction::Linear),
                Some(f) if f == "linear-exact" || f == "linear_exact" => {
                    Some(VoiFunction::LinearExact)
                }
                Some(f) if f == "sigmoid" => Some(VoiFunction::Sigmoid),
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "invalid_query",
                        "the window function is linear, linear-exact or sigmoid",
                    ));
                }
            };
            (pair("window", Some(&pair_text))?, function)
        }
    };
    if q.viewport
        .as_deref()
        .is_some_and(|v| v.split(',').count() != 2)
    {
        return Err(ApiError::bad_request(
            "invalid_query",
            "viewport is width,height (source regions are not supported)",
        ));
    }
    Ok(RenderOptions {
        window,
        window_function,
        format,
        viewport: pair("viewport", q.viewport.as_deref())?,
    })
}

async fn render(
    state: AppState,
    me: Authed,
    headers: HeaderMap,
    ids: (String, String, String),
    frame: Option<&str>,
    q: RenderedQuery,
) -> ApiResult<Response> {
    let options = render_options(&headers, &q)?;
    let content_type = rendered_type(&headers, 85)?.1;
    let (_, obj) = pixels_of(&state, &me, &ids).await?;
    let index = match frame {
        Some(text) => match frame_list(text, frame_count(&obj))?.as_slice() {
            [one] => *one,
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_frame_number",
                    "a rendered frame is one frame number",
                ));
            }
        },
        None => 0,
    };
    let bytes =
        tokio::task::spawn_blocking(move || renkei_dicom::render::render(&obj, index, &options))
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map_err(render_error)?;
    Ok(image_response(bytes, content_type))
}

/// WADO-RS `…/frames/{n}/rendered`: one frame as JPEG or PNG (by `Accept`), with `window`,
/// `viewport` and `quality`.
pub async fn rendered_frame(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study, series, sop, frame)): Path<(String, String, String, String)>,
    ApiQuery(q): ApiQuery<RenderedQuery>,
) -> ApiResult<Response> {
    render(state, me, headers, (study, series, sop), Some(&frame), q).await
}

/// WADO-RS `…/instances/{sop}/rendered`: the instance's first frame rendered.
pub async fn rendered_instance(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study, series, sop)): Path<(String, String, String)>,
    ApiQuery(q): ApiQuery<RenderedQuery>,
) -> ApiResult<Response> {
    render(state, me, headers, (study, series, sop), None, q).await
}
