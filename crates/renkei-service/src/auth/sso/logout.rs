//! OpenID Connect Back-Channel Logout 1.0: the provider posts a logout token; once its
//! signature, issuer, audience, times, events claim and unused `jti` check out, the sessions it
//! names end, and so do their sockets.

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::sso::expected_issuer;
use renkei_store::StoreError;
use serde_json::{Map, Value, json};

use super::token::verified_payload;
use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

/// The `events` member a logout token must carry.
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Clock difference tolerated between the provider and renkei.
const SKEW_SECONDS: i64 = 60;
/// How long after `iat` a logout token without `exp` is accepted (and its `jti` remembered).
const MAX_AGE_SECONDS: i64 = 10 * 60;

fn invalid(message: &'static str) -> ServiceError {
    ServiceError::bad_request("invalid_logout_token", message)
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// What a valid logout token names.
#[derive(Debug, PartialEq, Eq)]
pub struct LogoutClaims {
    pub issuer: String,
    pub jti: String,
    pub subject: Option<String>,
    pub sid: Option<String>,
    /// Until when the `jti` must be remembered.
    pub remember_until: Timestamp,
}

/// Checks a logout token's claims (its signature already verified) for `client_id` of the
/// provider whose discovered issuer is `issuer`, at `now`.
pub fn check_claims(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now: Timestamp,
) -> ServiceResult<LogoutClaims> {
    let tid = text(claims, "tid");
    let expected = expected_issuer(issuer, tid).ok_or_else(|| invalid("wrong issuer"))?;
    if text(claims, "iss") != Some(expected.as_str()) {
        return Err(invalid("wrong issuer"));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err(invalid("not for this client"));
    }
    let now_s = now.millis() / 1000;
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("iat missing"))?;
    let exp = claims.get("exp").and_then(Value::as_i64);
    let until = exp.unwrap_or(iat + MAX_AGE_SECONDS);
    if iat > now_s + SKEW_SECONDS || until + SKEW_SECONDS < now_s {
        return Err(invalid("expired or not yet valid"));
    }
    let event_ok = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(LOGOUT_EVENT))
        .is_some_and(Value::is_object);
    if !event_ok {
        return Err(invalid("not a logout token (events)"));
    }
    if claims.contains_key("nonce") {
        return Err(invalid("a logout token carries no nonce"));
    }
    let jti = text(claims, "jti").ok_or_else(|| invalid("jti missing"))?;
    let subject = text(claims, "sub").map(String::from);
    let sid = text(claims, "sid").map(String::from);
    if subject.is_none() && sid.is_none() {
        return Err(invalid("neither sub nor sid"));
    }
    Ok(LogoutClaims {
        issuer: expected,
        jti: jti.to_string(),
        subject,
        sid,
        remember_until: Timestamp((until + SKEW_SECONDS) * 1000),
    })
}

/// Handles organization `org_id`'s provider's logout token: the sessions it names end (with
/// an audit entry each) and their sockets close on every node.
pub async fn back_channel(svc: &Services, org_id: Uuid, logout_token: &str) -> ServiceResult<()> {
    let config = svc
        .store
        .sso_config(org_id)
        .await
        .or_service("sso_not_configured")?
        .ok_or_else(|| invalid("this organization has no identity provider"))?;
    let issuer = &config.settings.issuer;
    let mut metadata = svc.sso.metadata(issuer).await?;
    let mut claims = verified_payload(logout_token, metadata.jwks());
    if claims.is_none() {
        // The provider may have rotated its keys since they were fetched.
        svc.sso.forget(issuer);
        metadata = svc.sso.metadata(issuer).await?;
        claims = verified_payload(logout_token, metadata.jwks());
    }
    let claims = claims.ok_or_else(|| invalid("signature does not verify"))?;
    let now = Timestamp::now();
    let logout = check_claims(
        &claims,
        metadata.issuer().as_str(),
        &config.settings.client_id,
        now,
    )?;
    match svc
        .store
        .use_sso_token(
            &logout.issuer,
            &format!("jti:{}", logout.jti),
            logout.remember_until,
            now,
        )
        .await
    {
        Err(StoreError::Duplicate(_)) => return Err(invalid("this logout token was used already")),
        other => other.or_service("sso_not_configured")?,
    }
    let users = svc
        .store
        .end_sso_sessions(
            org_id,
            &logout.issuer,
            logout.subject.as_deref(),
            logout.sid.as_deref(),
            json!({"issuer": logout.issuer, "by": "back_channel_logout"}),
        )
        .await
        .or_service("sso_not_configured")?;
    for user in users {
        svc.messaging.sessions_ended(user);
    }
    Ok(())
}

/// The `logout_token` of a form-encoded back-channel logout request body.
pub fn logout_token_of(body: &[u8]) -> ServiceResult<String> {
    openidconnect::url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| invalid("logout_token missing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const TID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

    fn token(now: i64) -> Map<String, Value> {
        json!({
            "iss": format!("https://login.microsoftonline.com/{TID}/v2.0"),
            "tid": TID,
            "aud": "renkei",
            "iat": now,
            "jti": "abc",
            "sid": "s1",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn a_logout_token_is_checked_claim_by_claim() {
        let now = Timestamp(1_764_900_000_000);
        let secs = now.millis() / 1000;
        let ok = check_claims(&token(secs), ISS, "renkei", now).unwrap();
        assert_eq!(ok.sid.as_deref(), Some("s1"));
        assert_eq!(
            ok.issuer,
            format!("https://login.microsoftonline.com/{TID}/v2.0")
        );
        let refused = |edit: &dyn Fn(&mut Map<String, Value>)| {
            let mut t = token(secs);
            edit(&mut t);
            check_claims(&t, ISS, "renkei", now).is_err()
        };
        assert!(refused(&|t| {
            t.insert("iss".into(), json!("https://evil.example/v2.0"));
        }));
        assert!(refused(&|t| {
            t.insert("tid".into(), json!("00000000-0000-0000-0000-000000000000"));
        }));
        assert!(refused(&|t| {
            t.insert("aud".into(), json!(["other"]));
        }));
        assert!(refused(&|t| {
            t.insert("iat".into(), json!(secs - 3600));
        }));
        assert!(refused(&|t| {
            t.insert("events".into(), json!({}));
        }));
        assert!(refused(&|t| {
            t.insert("nonce".into(), json!("n"));
        }));
        assert!(refused(&|t| {
            t.remove("jti");
        }));
        assert!(refused(&|t| {
            t.remove("sid");
        }));
    }
}
