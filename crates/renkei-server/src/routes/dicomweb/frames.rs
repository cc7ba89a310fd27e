//! WADO-RS pixels: frames as uncompressed bytes or as stored, rendered frames and instances (PNG or JPEG),
//! and bulk data by tag; the request is read here, the pixels come from
//! `renkei_service::dicomweb::pixels`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::stream;
use renkei_dicom::render::{
    EXPLICIT_VR_LITTLE_ENDIAN as EXPLICIT_LE, ImageFormat, RenderOptions, VoiFunction,
};
use renkei_service::dicomweb::pixels::{self, Bulk, InstanceUids};
use serde::Deserialize;

use super::super::studies::{image_response, pair};
use super::{accepted, multipart, part, require_accept};
use crate::AppState;
use crate::auth::session::{Authed, Member};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;

/// Most frames one request may ask for.
const MAX_FRAMES_PER_REQUEST: usize = 1000;

fn bad_frame(text: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_frame_number",
        format!(
            "frame numbers are whole numbers from 1, separated by commas; got {:?}",
            text.chars().take(40).collect::<String>()
        ),
    )
}

/// `1,3,5` → [0, 2, 4] (0-based); checked before anything is read.
fn parse_frames(text: &str) -> ApiResult<Vec<u32>> {
    let list = text
        .split(',')
        .map(|item| match item.trim().parse::<u32>() {
            Ok(n) if n >= 1 => Ok(n - 1),
            _ => Err(bad_frame(text)),
        })
        .collect::<ApiResult<Vec<u32>>>()?;
    if list.len() > MAX_FRAMES_PER_REQUEST {
        return Err(bad_frame(text));
    }
    Ok(list)
}

fn frames_response(frames: Vec<Vec<u8>>, transfer_syntax: &str) -> Response {
    let part_type = format!("application/octet-stream; transfer-syntax={transfer_syntax}");
    multipart(
        "application/octet-stream",
        &part_type,
        stream::iter(frames.into_iter().map(part)),
    )
}

/// The transfer syntaxes `Accept` takes frames in, in its order: each `application/octet-stream`
/// range's `transfer-syntax` parameter (`*`: any), Explicit VR Little Endian where it names
/// none (PS3.18 8.7.3.5.2); empty when `Accept` is absent.
fn accepted_syntaxes(headers: &HeaderMap) -> Vec<String> {
    accepted(headers)
        .iter()
        .filter(|range| range.contains("application/octet-stream") || range.contains("*/*"))
        .map(|range| {
            range
                .split(';')
                .find_map(|p| p.strip_prefix("transfer-syntax="))
                .map_or(EXPLICIT_LE.to_string(), |ts| {
                    ts.trim_matches('"').to_string()
                })
        })
        .collect()
}

/// WADO-RS `…/frames/{list}`: the frames (1-based, e.g. `1,3,5`), one part each, as
/// uncompressed little-endian bytes (compressed instances decoded), or as stored when
/// `Accept` asks for the stored transfer syntax or `transfer-syntax=*`.
pub async fn frames(
    State(state): State<AppState>,
    Member(me): Member,
    headers: HeaderMap,
    Path((study, series, sop, list)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    require_accept(&headers, &["application/octet-stream"])?;
    let list = parse_frames(&list)?;
    let uids = (study, series, sop);
    let found = pixels::frames(&state, &me, &uids, list, &accepted_syntaxes(&headers)).await?;
    Ok(frames_response(found.frames, &found.transfer_syntax))
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
    Ok(
        match pixels::bulkdata(&state, &me, &(study, series, sop), tag).await? {
            Bulk::Frames(frames) => frames_response(frames, EXPLICIT_LE),
            Bulk::Value(bytes) => multipart(
                "application/octet-stream",
                "application/octet-stream",
                stream::iter([part(bytes)]),
            ),
        },
    )
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
    uids: InstanceUids,
    frame: Option<&str>,
    q: RenderedQuery,
) -> ApiResult<Response> {
    let options = render_options(&headers, &q)?;
    let content_type = rendered_type(&headers, 85)?.1;
    let index = match frame.map(parse_frames).transpose()?.as_deref() {
        None => 0,
        Some([one]) => *one,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_frame_number",
                "a rendered frame is one frame number",
            ));
        }
    };
    let bytes = pixels::rendered(&state, &me, &uids, index, options).await?;
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
