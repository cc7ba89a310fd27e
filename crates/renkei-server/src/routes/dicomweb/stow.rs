//! STOW-RS: instances uploaded as `multipart/related` (or one `application/dicom` body), each
//! de-identified, encrypted and indexed before it counts.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::dicom_json;
use super::multipart::{self, boundary_of, parameter};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::gateway::Uploader;

/// A DICOM JSON attribute (PS3.18 F.2): `{"vr": …, "Value": […]}`.
fn attr(vr: &str, value: Value) -> Value {
    json!({"vr": vr, "Value": [value]})
}

fn unsupported() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send multipart/related; type=\"application/dicom\" with application/dicom parts, or application/dicom",
    )
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
            if parameter(&content_type, "type")
                .is_some_and(|t| !t.eq_ignore_ascii_case("application/dicom"))
            {
                return Err(unsupported());
            }
            let parts = multipart::parts(&body, &boundary)?;
            if parts.iter().any(|p| {
                p.content_type.as_deref().is_some_and(|t| {
                    t.split(';').next().map(str::trim) != Some("application/dicom")
                })
            }) {
                return Err(unsupported());
            }
            parts
                .into_iter()
                .map(|p| body.slice_ref(p.content))
                .collect()
        }
        _ => return Err(unsupported()),
    };
    let mut stored = Vec::new();
    let mut failed = Vec::new();
    for file in files {
        match state
            .dicom
            .ingest(uploader.org(), file.to_vec(), uploader.source())
            .await {
            Ok(i) => stored.push(json!({
                "00081150": attr("UI", json!(i.sop_class)),
                "00081155": attr("UI", json!(i.sop_uid)),
                "00081190": attr("UR", json!(crate::dicomweb::instance_url(&i.study_uid, &i.series_uid, &i.sop_uid))),
            })),
            Err(e) => {
                let reason = match e {
                    crate::dicom::IngestFailure::CannotUnderstand(_)
                    | crate::dicom::IngestFailure::NotDeidentified(_) => 0xC000,
                    crate::dicom::IngestFailure::DoesNotMatch(_) => 0xA900,
                    crate::dicom::IngestFailure::OutOfResources(_) => 0xA700,
                };
                failed.push(json!({"00081197": attr("US", json!(reason)), "00009902": attr("LO", json!(e.api_error().message))}));
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
