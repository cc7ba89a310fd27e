//! DICOMweb for standard clients: STOW-RS uploads, QIDO-RS search, WADO-RS retrieval, scoped
//! to the caller's organization.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use renkei_core::dicom::Study;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult, OrApi};
use crate::extract::ApiQuery;
use crate::gateway::Uploader;

/// A DICOM JSON attribute (PS3.18 F.2): `{"vr": …, "Value": […]}`.
fn attr(vr: &str, value: Option<Value>) -> Value {
    match value {
        Some(v) => json!({"vr": vr, "Value": [v]}),
        None => json!({"vr": vr}),
    }
}

fn dicom_json(body: Value, status: StatusCode) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/dicom+json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The parts of a `multipart/related` body.
fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, ApiError> {
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let starts: Vec<usize> = finder.find_iter(body).collect();
    let bad = || {
        ApiError::bad_request(
            "invalid_multipart",
            "the body is not a well-formed multipart/related message",
        )
    };
    if starts.len() < 2 {
        return Err(bad());
    }
    let mut parts = Vec::new();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n").ok_or_else(bad)?;
        let split = memchr::memmem::find(part, b"\r\n\r\n").ok_or_else(bad)?;
        let content = &part[split + 4..];
        parts.push(content.strip_suffix(b"\r\n").unwrap_or(content));
    }
    Ok(parts)
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
}

/// STOW-RS: store instances (`multipart/related; type="application/dicom"`, or one
/// `application/dicom` body). Each is de-identified, encrypted and indexed before it counts.
pub async fn stow(
    State(state): State<AppState>,
    uploader: Uploader,
    request: Request,
) -> ApiResult<Response> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let limit = uploader.org().policy.max_upload_bytes() as usize;
    let body = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the upload is larger than this organization's limit",
            )
        })?;
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let files: Vec<Bytes> = match essence.as_str() {
        "application/dicom" => vec![body],
        "multipart/related" => {
            let boundary = boundary_of(&content_type).ok_or_else(|| {
                ApiError::bad_request("invalid_multipart", "multipart/related needs a boundary")
            })?;
            multipart_parts(&body, &boundary)?
                .into_iter()
                .map(|p| body.slice_ref(p))
                .collect()
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send multipart/related; type=\"application/dicom\" or application/dicom",
            ));
        }
    };
    let mut stored = Vec::new();
    let mut failed = Vec::new();
    for file in files {
        match state
            .dicom
            .ingest(uploader.org(), file.to_vec(), uploader.source())
            .await {
            Ok(i) => stored.push(json!({
                "00081150": attr("UI", Some(json!(i.sop_class))),
                "00081155": attr("UI", Some(json!(i.sop_uid))),
                "00081190": attr("UR", Some(json!(format!("/dicomweb/studies/{}/series/{}/instances/{}", i.study_uid, i.series_uid, i.sop_uid)))),
            })),
            Err(e) => {
                let reason = match e {
                    crate::dicom::IngestFailure::CannotUnderstand(_)
                    | crate::dicom::IngestFailure::NotDeidentified(_) => 0xC000,
                    crate::dicom::IngestFailure::DoesNotMatch(_) => 0xA900,
                    crate::dicom::IngestFailure::OutOfResources(_) => 0xA700,
                };
                failed.push(json!({"00081197": attr("US", Some(json!(reason))), "00009902": attr("LO", Some(json!(e.api_error().message)))}));
            }
        }
    }
    let status = match (stored.is_empty(), failed.is_empty()) {
        (_, true) => StatusCode::OK,
        (false, false) => StatusCode::ACCEPTED,
        (true, false) => StatusCode::CONFLICT,
    };
    let mut body = json!({"00081199": {"vr": "SQ", "Value": stored}});
    if !failed.is_empty() {
        body["00081198"] = json!({"vr": "SQ", "Value": failed});
    }
    Ok(dicom_json(body, status))
}

#[derive(Deserialize)]
pub struct QidoQuery {
    #[serde(rename = "StudyInstanceUID")]
    study_uid: Option<String>,
    /// `YYYYMMDD` or `YYYYMMDD-YYYYMMDD`.
    #[serde(rename = "StudyDate")]
    study_date: Option<String>,
    #[serde(rename = "ModalitiesInStudy")]
    modality: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn date_matches(filter: &str, date: Option<&str>) -> bool {
    let Some(date) = date else { return false };
    match filter.split_once('-') {
        Some((from, to)) => (from.is_empty() || date >= from) && (to.is_empty() || date <= to),
        None => date == filter,
    }
}

fn study_json(s: &Study) -> Value {
    json!({
        "0020000D": attr("UI", Some(json!(s.study_uid))),
        "00080020": attr("DA", s.study_date.as_ref().map(|d| json!(d))),
        "00080061": {"vr": "CS", "Value": s.modalities},
        "00100020": attr("LO", Some(json!(s.patient_tail))),
        "00081030": attr("LO", s.description.as_ref().map(|d| json!(d))),
        "00180015": attr("CS", s.body_part.as_ref().map(|d| json!(d))),
        "00201206": attr("IS", Some(json!(s.series_count))),
        "00201208": attr("IS", Some(json!(s.instance_count))),
    })
}

/// QIDO-RS: the organization's studies matching the standard query keys.
pub async fn search_studies(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<QidoQuery>,
) -> ApiResult<Response> {
    let all = state
        .store
        .studies(me.user.org_id, 0, 10_000)
        .await
        .or_api("study_not_found")?;
    let found: Vec<Value> = all
        .iter()
        .filter(|s| q.study_uid.as_deref().is_none_or(|u| u == s.study_uid))
        .filter(|s| {
            q.study_date
                .as_deref()
                .is_none_or(|d| date_matches(d, s.study_date.as_deref()))
        })
        .filter(|s| {
            q.modality
                .as_deref()
                .is_none_or(|m| s.modalities.iter().any(|x| x == m))
        })
        .skip(q.offset.unwrap_or(0).max(0) as usize)
        .take(q.limit.unwrap_or(100).clamp(1, 1000) as usize)
        .map(study_json)
        .collect();
    Ok(dicom_json(Value::Array(found), StatusCode::OK))
}

async fn org_study(state: &AppState, me: &Member, study_uid: &str) -> ApiResult<Study> {
    let study = state
        .store
        .study_by_uid(me.0.user.org_id, study_uid)
        .await
        .or_api("study_not_found")?;
    state
        .dicom
        .visible_study(study.id, me.0.user.id, me.0.user.org_id)
        .await
}

/// QIDO-RS: a study's series.
pub async fn search_series(
    State(state): State<AppState>,
    me: Member,
    Path(study_uid): Path<String>,
) -> ApiResult<Response> {
    let study = org_study(&state, &me, &study_uid).await?;
    let series: Vec<Value> = state
        .store
        .series_of(study.id)
        .await
        .or_api("study_not_found")?
        .iter()
        .map(|s| {
            json!({
                "0020000D": attr("UI", Some(json!(study.study_uid))),
                "0020000E": attr("UI", Some(json!(s.series_uid))),
                "00080060": attr("CS", s.modality.as_ref().map(|m| json!(m))),
                "00200011": attr("IS", s.series_number.map(|n| json!(n))),
                "0008103E": attr("LO", s.description.as_ref().map(|d| json!(d))),
                "00201209": attr("IS", Some(json!(s.instance_count))),
            })
        })
        .collect();
    Ok(dicom_json(Value::Array(series), StatusCode::OK))
}

/// QIDO-RS: a series' instances.
pub async fn search_instances(
    State(state): State<AppState>,
    me: Member,
    Path((study_uid, series_uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let study = org_study(&state, &me, &study_uid).await?;
    let instances: Vec<Value> = state
        .store
        .instances_of(study.id, Some(&series_uid))
        .await
        .or_api("study_not_found")?
        .iter()
        .map(|i| {
            json!({
                "0020000D": attr("UI", Some(json!(study.study_uid))),
                "0020000E": attr("UI", Some(json!(i.series_uid))),
                "00080016": attr("UI", Some(json!(i.sop_class))),
                "00080018": attr("UI", Some(json!(i.sop_uid))),
                "00200013": attr("IS", i.instance_number.map(|n| json!(n))),
                "00280008": attr("IS", Some(json!(i.frames))),
            })
        })
        .collect();
    Ok(dicom_json(Value::Array(instances), StatusCode::OK))
}

/// WADO-RS: one instance as `multipart/related; type="application/dicom"`.
pub async fn retrieve_instance(
    State(state): State<AppState>,
    me: Member,
    Path((study_uid, _series_uid, sop_uid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let study = org_study(&state, &me, &study_uid).await?;
    let stream = state.dicom.open_instance(study.id, &sop_uid).await?;
    let boundary = format!("renkei-{}", renkei_core::new_id().simple());
    let head = Bytes::from(format!(
        "--{boundary}\r\nContent-Type: application/dicom\r\n\r\n"
    ));
    let tail = Bytes::from(format!("\r\n--{boundary}--\r\n"));
    let body = futures_util::stream::iter([Ok(head)])
        .chain(stream)
        .chain(futures_util::stream::iter([Ok(tail)]));
    let mut response = Body::from_stream(body).into_response();
    let ct = format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
    if let Ok(v) = HeaderValue::from_str(&ct) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_split_into_parts() {
        let body = b"--b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n--b\r\nContent-Type: application/dicom\r\n\r\nTWO\r\n--b--\r\n";
        let parts = multipart_parts(body, "b").unwrap();
        assert_eq!(parts, vec![&b"ONE"[..], &b"TWO"[..]]);
        assert!(multipart_parts(b"no parts here", "b").is_err());
        assert_eq!(
            boundary_of("multipart/related; type=\"application/dicom\"; boundary=\"x y\"")
                .as_deref(),
            Some("x y")
        );
    }

    #[test]
    fn study_dates_match_exactly_or_in_ranges() {
        assert!(date_matches("20260101", Some("20260101")));
        assert!(date_matches("20260101-20261231", Some("20260615")));
        assert!(date_matches("-20260101", Some("20251231")));
        assert!(!date_matches("20260101-", Some("20251231")));
        assert!(!date_matches("20260101", None));
    }
}
