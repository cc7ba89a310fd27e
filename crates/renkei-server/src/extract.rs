//! Request extractors whose failures are `{code, message}` errors: JSON bodies, versions, paging.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body: must say `application/json`, fit the body limit, be UTF-8, be an object (every
/// request body is one; serde would also fill a struct from an array, by position) and match
/// the type exactly (unknown fields are refused). Errors never echo the values sent.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is larger than this server accepts",
                )
            } else {
                ApiError::bad_request("unreadable_body", "the request body could not be read")
            }
        })?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request(
                "invalid_json",
                "the body must be a JSON object",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request("invalid_json", describe_json_error(&e)))
    }
}

/// A description of a JSON error with every quoted value removed, so a misplaced secret
/// is never echoed back or logged.
fn describe_json_error(e: &serde_json::Error) -> String {
    let mut text = String::new();
    let mut in_quotes = false;
    for c in e.to_string().chars() {
        if c == '"' {
            in_quotes = !in_quotes;
            if in_quotes {
                text.push_str("\"…\"");
            }
        } else if !in_quotes {
            text.push(c);
        }
    }
    match e.classify() {
        serde_json::error::Category::Data => format!("the JSON does not match: {text}"),
        _ => format!("the body is not valid JSON: {text}"),
    }
}

/// The version an edit was made against, from `If-Match` (e.g. `"3"`) or the body's `version`.
pub fn expected_version(parts_if_match: Option<i64>, body: Option<i64>) -> Result<i64, ApiError> {
    parts_if_match.or(body).ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "version_required",
            "say which version you edited: an If-Match header or a version field",
        )
    })
}

/// The `If-Match` header's version, if any.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        value
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse().ok())
            .map(|v| IfMatch(Some(v)))
            .ok_or_else(|| {
                ApiError::bad_request("invalid_if_match", "If-Match must be a version number")
            })
    }
}

/// A query string parsed into `T`, with `{code, message}` errors.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// Path parameters parsed into `T`; a value that does not parse (a malformed identifier or
/// number) names nothing, so it is 404 `not_found` like an unknown one.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| ApiError::not_found("not_found"))
    }
}

/// A UUID path parameter with a `{code, message}` error.
pub struct IdPath(pub renkei_core::Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        ApiPath::<renkei_core::Uuid>::from_request_parts(parts, state)
            .await
            .map(|p| IdPath(p.0))
    }
}
