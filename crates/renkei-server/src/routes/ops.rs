//! Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use crate::AppState;
use crate::auth::token::constant_time_eq;
use crate::error::ApiError;
use crate::observe::prometheus;

/// Routes outside the versioned API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(guarded_metrics))
        .route("/api/openapi.json", get(openapi))
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// The process can serve: its database answers and it is not draining for a shutdown (what
/// a load balancer's health check asks, see docs/DEPLOYMENT.md).
async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    renkei_service::health::ready(&state, &state.drain).await?;
    Ok(Json(json!({"status": "ready"})))
}

/// `/metrics` alone and open, for the separate metrics listener.
pub fn metrics_only() -> Router {
    Router::new().route("/metrics", get(metrics))
}

/// Prometheus text exposition.
async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus().render(),
    )
}

/// `/metrics` on the main listener: only with `Authorization: Bearer <metrics_token>`, and
/// not at all (404) when no token is configured.
async fn guarded_metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let Some(token) = state
        .settings
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Err(not_found().await);
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !constant_time_eq(sent, token) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "metrics_token_required",
            "metrics need the configured bearer token",
        ));
    }
    Ok(metrics().await)
}

async fn openapi() -> impl IntoResponse {
    Json(crate::openapi())
}

/// Unknown paths get the usual error body.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such endpoint")
}
