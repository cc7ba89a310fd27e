//! DICOMweb for standard clients under `/dicomweb`: STOW-RS uploads, QIDO-RS search, WADO-RS
//! retrieval, metadata, frames and rendered frames, with the access rule of `/api/v1/studies`.

mod frames;
pub(crate) mod multipart;
mod qido;
mod stow;
mod wado;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt};
use serde_json::Value;

use crate::AppState;
use crate::error::ApiError;

/// The `/dicomweb` routes.
pub fn router() -> Router<AppState> {
    let instance = "/dicomweb/studies/{study}/series/{series}/instances/{instance}";
    Router::new()
        .route(
            "/dicomweb/studies",
            get(qido::search_studies).post(stow::stow),
        )
        .route("/dicomweb/studies/{study}", get(wado::retrieve_study))
        .route(
            "/dicomweb/studies/{study}/metadata",
            get(wado::study_metadata),
        )
        .route("/dicomweb/studies/{study}/series", get(qido::search_series))
        .route(
            "/dicomweb/studies/{study}/instances",
            get(qido::search_study_instances),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}",
            get(wado::retrieve_series),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/metadata",
            get(wado::series_metadata),
        )
        .route(
            "/dicomweb/studies/{study}/series/{series}/instances",
            get(qido::search_instances),
        )
        .route(instance, get(wado::retrieve_instance))
        .route(
            &format!("{instance}/metadata"),
            get(wado::instance_metadata),
        )
        .route(
            &format!("{instance}/bulkdata/{{tag}}"),
            get(frames::bulkdata),
        )
        .route(
            &format!("{instance}/frames/{{frames}}"),
            get(frames::frames),
        )
        .route(
            &format!("{instance}/frames/{{frames}}/rendered"),
            get(frames::rendered_frame),
        )
        .route(
            &format!("{instance}/rendered"),
            get(frames::rendered_instance),
        )
}

/// A DICOM JSON response (`application/dicom+json`).
fn dicom_json(body: Value, status: StatusCode) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/dicom+json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The media types the request's `Accept` header lists, lower-case, without parameters
/// except `type`; empty when there is none.
fn accepted(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase().replace(' ', ""))
        .filter(|t| !t.is_empty())
        .collect()
}

/// 406 when the `Accept` header lists none of `offered` (nor a wildcard).
fn require_accept(headers: &HeaderMap, offered: &[&str]) -> Result<(), ApiError> {
    let accepted = accepted(headers);
    let ok = accepted.is_empty()
        || accepted
            .iter()
            .any(|a| a.contains("*/*") || offered.iter().any(|o| a.contains(o)));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            format!("this resource is available as {}", offered.join(", ")),
        ))
    }
}

/// One part of a multipart response: its bytes, streamed.
type Part = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A part holding `bytes`.
fn part(bytes: Vec<u8>) -> Part {
    futures_util::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed()
}

/// A `multipart/related; type="{kind}"` response whose parts (each of `part_type`, which may
/// carry parameters) are streamed from `parts` as they come.
fn multipart<S>(kind: &str, part_type: &str, parts: S) -> Response
where
    S: Stream<Item = Part> + Send + 'static,
{
    let boundary = format!("renkei-{}", renkei_core::new_id().simple());
    let head = Bytes::from(format!("--{boundary}\r\nContent-Type: {part_type}\r\n\r\n"));
    let tail = Bytes::from(format!("--{boundary}--\r\n"));
    let body = parts
        .flat_map(move |part| {
            stream::iter([Ok(head.clone())])
                .chain(part)
                .chain(stream::iter([Ok(Bytes::from_static(b"\r\n"))]))
        })
        .chain(stream::iter([Ok(tail)]));
    let mut response = Body::from_stream(body).into_response();
    let ct = format!("multipart/related; type=\"{kind}\"; boundary={boundary}");
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
