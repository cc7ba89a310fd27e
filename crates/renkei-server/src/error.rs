//! API errors: an HTTP status and a `{code, message}` body; internals are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_core::DomainError;
use renkei_service::{Kind, ServiceError};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable, e.g. `session_locked`.
    pub code: String,
    /// For people; never contains a secret or a patient identifier.
    pub message: String,
    /// On `409 version_conflict`: the record as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Value>,
    /// Seconds until trying again may succeed (also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
    /// On a wrong password: how many more may be tried before sign-in is slowed down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<i64>,
}

/// An error answer to a request.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub current: Option<Value>,
    /// Seconds after which retrying may succeed (`Retry-After`).
    pub retry_after: Option<i64>,
    /// Wrong passwords left before sign-in is slowed down.
    pub attempts_left: Option<i64>,
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            current: None,
            retry_after: None,
            attempts_left: None,
        }
    }

    /// 400 with a code (the service's refusal of a malformed request).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::bad_request(code, message).into()
    }

    /// 404 for a record the caller may not see or that does not exist (indistinguishable).
    pub fn not_found(what: &'static str) -> Self {
        ServiceError::not_found(what).into()
    }

    /// 403: signed in, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ServiceError::forbidden(message).into()
    }

    /// 401: no valid session.
    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::unauthenticated(code, message).into()
    }

    /// The same error with a `Retry-After`.
    pub fn retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// 500; the cause is logged and not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        ServiceError::internal(cause).into()
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        ServiceError::from(err).into()
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        ApiError {
            status: status_of(err.kind),
            code: err.code,
            message: err.message,
            current: err.current,
            retry_after: err.retry_after,
            attempts_left: err.attempts_left,
        }
    }
}

/// The one place a service's kind of refusal becomes an HTTP status.
fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::BadRequest => StatusCode::BAD_REQUEST,
        Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Gone => StatusCode::GONE,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
        Kind::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Locked => StatusCode::LOCKED,
        Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
            current: self.current,
            retry_after: self.retry_after,
            attempts_left: self.attempts_left,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// The error of a SCIM answer (RFC 7644 §3.12): the one place where SCIM's error message
/// replaces `{code, message}`. The status comes from [`status_of`], except that a rule's
/// refusal is 400 as SCIM wants; `scimType` is the service's code when it is one of SCIM's,
/// else derived from the kind.
#[derive(Debug)]
pub struct ScimError(pub ServiceError);

/// What SCIM handlers return.
pub type ScimResult<T> = Result<T, ScimError>;

impl From<ServiceError> for ScimError {
    fn from(err: ServiceError) -> Self {
        ScimError(err)
    }
}

impl From<DomainError> for ScimError {
    fn from(err: DomainError) -> Self {
        ScimError(err.into())
    }
}

/// The `scimType`s of RFC 7644 §3.12.
const SCIM_TYPES: &[&str] = &[
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
];

/// The `scimType` of a refusal, when SCIM has one for it.
fn scim_type(err: &ServiceError) -> Option<&'static str> {
    if let Some(t) = SCIM_TYPES.iter().find(|t| **t == err.code) {
        return Some(*t);
    }
    match err.kind {
        Kind::Invalid | Kind::BadRequest => Some("invalidValue"),
        Kind::Conflict if err.code.ends_with("_taken") => Some("uniqueness"),
        _ => None,
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let err = self.0;
        let status = match err.kind {
            Kind::Invalid => StatusCode::BAD_REQUEST,
            kind => status_of(kind),
        };
        let mut body = serde_json::json!({
            "schemas": [renkei_core::scim::ERROR_SCHEMA],
            "status": status.as_u16().to_string(),
            "detail": err.message,
        });
        if let Some(t) = scim_type(&err) {
            body["scimType"] = t.into();
        }
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/scim+json"),
        );
        if let Some(secs) = err.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}
