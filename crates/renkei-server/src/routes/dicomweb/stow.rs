//! STOW-RS: instances uploaded as `multipart/related` (or one `application/dicom` body), read
//! here into held files, then stored by `renkei_service::dicomweb::stow`; the answer in DICOM
//! JSON.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use std::sync::Arc;

use futures_util::StreamExt;
use renkei_dicom::inflight::{Buffer, InFlight, InFlightError};
use renkei_service::dicomweb::{instance_url, stow};

use super::dicom_json;
use super::multipart::{Splitter, Step, boundary_of, parameter};
use crate::AppState;
use crate::auth::gateway_token::Upload;
use crate::error::{ApiError, ApiResult};

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
///
/// The body is read as it arrives: each part is held in memory under the DICOM budget of data
/// in flight while small, in a sealed spill file otherwise (and once the upload holds more
/// than the spill threshold in memory); nothing is stored unless the whole body is well formed.
pub async fn stow(
    State(state): State<AppState>,
    Upload(uploader): Upload,
    request: Request,
) -> ApiResult<Response> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let request_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = Body::new(
        request.into_body(),
        uploader.org().policy.max_upload_bytes(),
    );
    let mut files = Parts::new(state.dicom.inflight.clone());
    if let Err(refused) = read_files(
        &content_type,
        &essence,
        request_length,
        &mut body,
        &mut files,
    )
    .await
    {
        // Read what is left (within the limit) so the client, still sending, gets the answer
        // instead of a connection closed under it.
        body.drain().await;
        return Err(refused);
    }
    let stowed = stow::store(&state, &uploader, files.done).await;
    let stored: Vec<Value> = stowed
        .stored
        .iter()
        .map(|i| {
            json!({
                "00081150": attr("UI", json!(i.sop_class)),
                "00081155": attr("UI", json!(i.sop_uid)),
                "00081190": attr("UR", json!(instance_url(&i.study_uid, &i.series_uid, &i.sop_uid))),
            })
        })
        .collect();
    let failed: Vec<Value> = stowed
        .refused
        .iter()
        .map(|r| json!({"00081197": attr("US", json!(r.reason)), "00009902": attr("LO", json!(r.message))}))
        .collect();
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

/// Reads the body's files by its content type into `files`.
async fn read_files(
    content_type: &str,
    essence: &str,
    request_length: Option<usize>,
    body: &mut Body,
    files: &mut Parts,
) -> ApiResult<()> {
    match essence {
        "application/dicom" => {
            // Its announced length is room reserved ahead (within the spill threshold).
            let length = request_length.unwrap_or(0);
            files.begin(length);
            while let Some(chunk) = body.next().await? {
                files.append(&chunk);
            }
        }
        "multipart/related" => {
            let boundary = boundary_of(content_type).ok_or_else(|| {
                ApiError::bad_request("invalid_multipart", "multipart/related needs a boundary")
            })?;
            if parameter(content_type, "type")
                .is_some_and(|t| !t.eq_ignore_ascii_case("application/dicom"))
            {
                return Err(unsupported());
            }
            let mut splitter = Splitter::new(&boundary)?;
            loop {
                match splitter.next_step()? {
                    Step::NeedMore => match body.next().await? {
                        Some(chunk) => splitter.push(&chunk),
                        None => {
                            splitter.end()?;
                            break;
                        }
                    },
                    Step::Part { content_type } => {
                        if content_type.as_deref().is_some_and(|t| {
                            t.split(';').next().map(str::trim) != Some("application/dicom")
                        }) {
                            return Err(unsupported());
                        }
                        files.begin(0);
                    }
                    Step::Data(bytes) => files.append(bytes),
                    Step::PartEnd => {}
                    Step::Done => break,
                }
            }
        }
        _ => return Err(unsupported()),
    }
    Ok(())
}

/// A request body read chunk by chunk, within the organization's upload limit.
struct Body {
    stream: axum::body::BodyDataStream,
    left: u64,
}

impl Body {
    fn new(body: axum::body::Body, limit: u64) -> Body {
        Body {
            stream: body.into_data_stream(),
            left: limit,
        }
    }

    /// The next chunk; None at the end.
    async fn next(&mut self) -> ApiResult<Option<Bytes>> {
        let Some(chunk) = self.stream.next().await else {
            return Ok(None);
        };
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("invalid_body", "the upload could not be read to its end")
        })?;
        self.left = self.left.checked_sub(chunk.len() as u64).ok_or_else(|| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the upload is larger than this organization's limit",
            )
        })?;
        Ok(Some(chunk))
    }

    /// Reads and drops the rest of the body, up to [`DRAIN_LIMIT`] and the upload limit.
    async fn drain(&mut self) {
        self.left = self.left.min(DRAIN_LIMIT);
        while let Ok(Some(_)) = self.next().await {}
    }
}

/// The most of a refused upload read before answering; a longer one is cut off.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// The uploaded files as they are read: each in memory or sealed on disk, or why it could not
/// be kept.
struct Parts {
    inflight: Arc<InFlight>,
    done: Vec<Result<Buffer, InFlightError>>,
    /// Bytes of finished parts held in memory.
    in_memory: u64,
}

impl Parts {
    fn new(inflight: Arc<InFlight>) -> Parts {
        Parts {
            inflight,
            done: Vec::new(),
            in_memory: 0,
        }
    }

    /// Starts the next file (`hint`: bytes to reserve room for); once the upload holds more
    /// than the spill threshold in memory, further files go straight to disk.
    fn begin(&mut self, hint: usize) {
        if let Some(Ok(last)) = self.done.last()
            && !last.is_spilled()
        {
            self.in_memory += last.len();
        }
        let mut buffer = Buffer::new(&self.inflight, Vec::new(), hint);
        let file = if self.in_memory > self.inflight.spill_threshold() {
            buffer.spill_now().map(|()| buffer)
        } else {
            Ok(buffer)
        };
        self.done.push(file);
    }

    /// Content of the current file.
    fn append(&mut self, bytes: &[u8]) {
        if let Some(current) = self.done.last_mut()
            && let Ok(buffer) = current
            && let Err(error) = buffer.append(bytes)
        {
            *current = Err(error);
        }
    }
}
