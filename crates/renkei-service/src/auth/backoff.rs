//! Sign-in back-off: wrong passwords slow further tries for the login as typed (known or not,
//! the answers are the same), and never end a session. See `renkei_core::sign_in`.

use crate::error::Kind;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::sign_in::Backoff;
use renkei_core::user::User;
use serde_json::json;

use crate::Services;
use crate::error::{ServiceError, ServiceResult};

/// The back-off rule of these settings.
pub fn rule(settings: &crate::Settings) -> Backoff {
    Backoff {
        free_attempts: settings.login_max_failures.max(1),
        first_wait_secs: settings.login_backoff_seconds.max(1),
        max_wait_secs: settings.login_lockout_seconds.max(1),
        forget_after_secs: 24 * 3600,
    }
}

/// Seconds from `now` until `until`, at least one.
fn seconds_until(until: Timestamp, now: Timestamp) -> i64 {
    ((until.millis() - now.millis() + 999) / 1000).max(1)
}

/// 429 `sign_in_delayed`: no password is checked for this login until the wait is over.
fn delayed(until: Timestamp, now: Timestamp) -> ServiceError {
    let wait = seconds_until(until, now);
    let mut err = ServiceError::new(
        Kind::TooMany,
        "sign_in_delayed",
        format!("too many wrong passwords for this login; try again in {wait} seconds"),
    )
    .retry_after(wait);
    err.attempts_left = Some(0);
    err
}

/// Refuses a try while the typed login (`key`, from `login_key`) waits.
pub async fn check(state: &Services, key: &str) -> ServiceResult<()> {
    let now = Timestamp::now();
    match state.store.sign_in_failures(key).await {
        Ok(Some(f)) => match f.wait_until.filter(|u| *u > now) {
            Some(until) => Err(delayed(until, now)),
            None => Ok(()),
        },
        Ok(None) => Ok(()),
        Err(e) => Err(ServiceError::from_store(e, "user_not_found")),
    }
}

/// Counts a wrong password (or an unknown login) for `key`; the answer: 401
/// `invalid_credentials` with the attempts left and, once waiting starts, when to retry.
pub async fn record_failure(state: &Services, key: &str, user: Option<&User>) -> ServiceError {
    let now = Timestamp::now();
    let reason = if user.is_some() {
        "wrong_password"
    } else {
        "unknown_login"
    };
    let event = AuditEvent::new(
        "auth.login_failed",
        user.map(|u| u.org_id),
        user.map(|u| u.id),
        "user",
        user.map(|u| u.id),
    )
    .with_details(json!({"reason": reason}));
    let rule = rule(&state.settings);
    match state
        .store
        .record_sign_in_failure(key, &rule, now, &event)
        .await
    {
        Ok(failure) => {
            let mut err =
                ServiceError::unauthenticated("invalid_credentials", "wrong login or password");
            err.attempts_left = Some(failure.attempts_left);
            if let Some(until) = failure.wait_until {
                err.retry_after = Some(seconds_until(until, now));
            }
            err
        }
        Err(e) => ServiceError::from_store(e, "user_not_found"),
    }
}
