//! Time-limited TURN credentials in coturn's REST scheme (`use-auth-secret`).

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::Settings;
use crate::error::{Kind, ServiceError, ServiceResult};

/// What a client hands its `RTCPeerConnection` as a TURN server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TurnCredentials {
    pub urls: Vec<String>,
    /// `<unix expiry>:<user id>`.
    pub username: String,
    /// base64(HMAC-SHA1(turn_secret, username)).
    pub credential: String,
    /// Seconds the credential lasts.
    pub ttl: i64,
}

/// Credentials for `user` valid `turn_ttl_seconds` from `now`; 404 `turn_not_configured`
/// without a `turn_secret`.
pub fn turn_credentials(
    settings: &Settings,
    user: Uuid,
    now: Timestamp,
) -> ServiceResult<TurnCredentials> {
    let Some(secret) = settings.turn_secret.as_deref().filter(|s| !s.is_empty()) else {
        return Err(ServiceError::new(
            Kind::NotFound,
            "turn_not_configured",
            "this server has no TURN secret configured",
        ));
    };
    let ttl = settings.turn_ttl_seconds.max(60);
    let expires = now.millis() / 1000 + ttl;
    let (username, credential) = renkei_core::call::turn_credentials(secret, user, expires);
    Ok(TurnCredentials {
        urls: settings.turn_urls.clone(),
        username,
        credential,
        ttl,
    })
}
