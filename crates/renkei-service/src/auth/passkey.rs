//! Passkeys' relying party: webauthn-rs configured from the server's public URL, and each
//! ceremony's state kept in the database between its two requests, spent once, expiring.

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_store::{PasskeyChallenge, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::error::{Kind, OrService, ServiceError, ServiceResult};
use crate::{Services, Settings};

/// How long a ceremony may take, from its challenge to the authenticator's answer.
pub const CHALLENGE_SECONDS: i64 = 300;

/// What a ceremony's state is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Registering a passkey, for the user who asked.
    Register,
    /// Signing in, or passing the second factor, with any passkey.
    Assert,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Assert => "assert",
        }
    }
}

fn unavailable(why: &str) -> ServiceError {
    ServiceError::new(
        Kind::NotFound,
        "passkeys_unavailable",
        format!("passkeys are not available on this server: {why}"),
    )
}

/// The relying party of `settings.public_url`: its host is the relying party id, its origin
/// the one accepted (on `localhost`, any port). Without a usable URL, `passkeys_unavailable`.
pub fn relying_party(settings: &Settings) -> ServiceResult<Webauthn> {
    let Some(text) = settings.public_url.as_deref() else {
        return Err(unavailable("public_url is not configured"));
    };
    let url = Url::parse(text.trim()).map_err(|_| unavailable("public_url is not a URL"))?;
    let Some(host) = url.domain().map(str::to_owned) else {
        return Err(unavailable("public_url must name a host, not an address"));
    };
    let loopback = host == "localhost" || host.ends_with(".localhost");
    if url.scheme() != "https" && !loopback {
        return Err(unavailable("public_url must be https"));
    }
    WebauthnBuilder::new(&host, &url)
        .and_then(|b| b.rp_name("renkei").allow_any_port(loopback).build())
        .map_err(|e| {
            tracing::warn!(error = %e, "passkeys: the public_url does not make a relying party");
            unavailable("public_url is not usable")
        })
}

/// 403 `challenge_invalid`: the challenge is unknown, spent, expired or someone else's.
pub fn challenge_invalid() -> ServiceError {
    ServiceError::new(
        Kind::Forbidden,
        "challenge_invalid",
        "this passkey request expired or was used already; start again",
    )
}

/// 400 `credential_invalid`: the browser's answer is not a WebAuthn credential.
pub fn credential_invalid() -> ServiceError {
    ServiceError::bad_request("credential_invalid", "not a WebAuthn credential")
}

/// Keeps `state` for a ceremony of `purpose` (by `user_id` when registering); its id.
pub async fn keep(
    svc: &Services,
    purpose: Purpose,
    user_id: Option<Uuid>,
    state: &impl Serialize,
) -> ServiceResult<Uuid> {
    let challenge = PasskeyChallenge {
        id: renkei_core::new_id(),
        purpose: purpose.as_str().into(),
        user_id,
        state: serde_json::to_string(state).map_err(|e| ServiceError::internal(&e))?,
        expires_at: Timestamp::now().plus_secs(CHALLENGE_SECONDS),
    };
    svc.store
        .put_passkey_challenge(&challenge)
        .await
        .or_service("challenge_invalid")?;
    Ok(challenge.id)
}

/// Spends the ceremony `id` of `purpose` begun by `user_id` (registration) or anyone
/// (assertion): its state, once; `challenge_invalid` otherwise.
pub async fn take<T: DeserializeOwned>(
    svc: &Services,
    id: Uuid,
    purpose: Purpose,
    user_id: Option<Uuid>,
) -> ServiceResult<T> {
    let challenge = match svc.store.take_passkey_challenge(id, purpose.as_str()).await {
        Err(StoreError::NotFound) => return Err(challenge_invalid()),
        other => other.or_service("challenge_invalid")?,
    };
    if challenge.expires_at < Timestamp::now() || challenge.user_id != user_id {
        return Err(challenge_invalid());
    }
    serde_json::from_str(&challenge.state).map_err(|e| ServiceError::internal(&e))
}

/// A browser's answer read as the webauthn-rs type `T`; `credential_invalid` otherwise.
pub fn read_credential<T: DeserializeOwned>(credential: Value) -> ServiceResult<T> {
    serde_json::from_value(credential).map_err(|_| credential_invalid())
}

/// The options handed to `navigator.credentials.*` as JSON; `edit` adjusts them first.
pub fn options(of: &impl Serialize, edit: impl FnOnce(&mut Value)) -> ServiceResult<Value> {
    let mut value = serde_json::to_value(of).map_err(|e| ServiceError::internal(&e))?;
    edit(&mut value);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(url: Option<&str>) -> ServiceResult<Webauthn> {
        relying_party(&Settings {
            public_url: url.map(str::to_owned),
            ..Settings::default()
        })
    }

    #[test]
    fn the_relying_party_comes_from_an_https_public_url_or_localhost() {
        assert!(at(Some("https://renkei.example-hospital.jp")).is_ok());
        assert!(at(Some("http://localhost")).is_ok());
        for refused in [
            None,
            Some("http://renkei.example-hospital.jp"),
            Some("https://10.0.0.5"),
            Some("not a url"),
        ] {
            let Err(err) = at(refused) else {
                panic!("{refused:?} was accepted")
            };
            assert_eq!(err.code, "passkeys_unavailable", "{refused:?}");
        }
    }
}
