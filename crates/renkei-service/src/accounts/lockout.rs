//! The account lock: wrong passcodes or second-factor codes in a row lock an account for a
//! while and end its sessions (both need a signed-in session, so a stranger cannot cause it).

use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::user::User;
use serde_json::json;

use crate::Services;
use crate::error::{Kind, ServiceError};

/// Longest password, passcode or code even looked at; longer ones are wrong without hashing.
pub const MAX_SECRET_BYTES: usize = 1024;

/// 423 `account_locked` until `until`, with the seconds left.
pub fn account_locked(until: Timestamp) -> ServiceError {
    let wait = (until.millis() - Timestamp::now().millis()) / 1000 + 1;
    ServiceError::new(
        Kind::Locked,
        "account_locked",
        format!("too many wrong attempts; this account is locked for {wait} more seconds"),
    )
    .retry_after(wait)
}

/// Counts a wrong passcode or code (`action` is its audit name) and answers `wrong`; the last
/// allowed locks the account, ends its sessions (live sockets too) and answers
/// `account_locked` instead.
pub async fn count_failure(
    svc: &Services,
    user: &User,
    action: &'static str,
    wrong: ServiceError,
) -> ServiceError {
    let settings = &svc.settings;
    let until = Timestamp::now().plus_secs(settings.login_lockout_seconds);
    let event = AuditEvent::new(
        action,
        Some(user.org_id),
        Some(user.id),
        "user",
        Some(user.id),
    );
    match svc
        .store
        .record_failed_attempt(user.id, settings.login_max_failures, until, &event)
        .await
    {
        Ok(creds) if creds.locked_until == Some(until) => {
            let locked = AuditEvent::new(
                "auth.account_locked",
                Some(user.org_id),
                None,
                "user",
                Some(user.id),
            )
            .with_details(json!({"seconds": settings.login_lockout_seconds}));
            if let Err(e) = svc.store.append_audit(&locked).await {
                return ServiceError::from_store(e, "user_not_found");
            }
            svc.messaging.user_ended(user.id);
            account_locked(until)
        }
        Ok(_) => wrong,
        Err(e) => ServiceError::from_store(e, "user_not_found"),
    }
}
