//! The WebSocket endpoint: checks the origin, then hands the connection to a socket session.

use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;

use crate::AppState;
use crate::auth::session::{SESSION_COOKIE, cookie};
use crate::error::ApiError;
use crate::messaging::socket;

/// Largest frame a client may send.
const MAX_FRAME_BYTES: usize = 256 * 1024;

/// A browser page from another site must not ride the session cookie.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

/// Upgrade to the real-time protocol (docs/PROTOCOL.md).
pub async fn websocket(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !same_origin(&headers) {
        return Err(ApiError::forbidden(
            "cross-origin WebSocket connections are refused",
        ));
    }
    let cookie_token = cookie(&headers, SESSION_COOKIE);
    Ok(upgrade
        // Client frames are small: a small read buffer keeps 2,000 sockets in tens of MiB.
        .read_buffer_size(8 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |ws| socket::run(ws, state, cookie_token)))
}
