//! Signing in and out, and unlocking a passcode-locked session: the password with its
//! back-off, the account's status and lock, what second factor the new session owes.
//! Cookies and the per-address rate limit are the HTTP layer's.

use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::Organization;
use renkei_core::sign_in::login_key;
use renkei_core::user::{User, UserStatus};
use renkei_store::{SessionRecord, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use super::lockout::{MAX_SECRET_BYTES, account_locked, count_failure};
use crate::Services;
use crate::auth::backoff;
use crate::auth::session::{Authed, second_factor_gate, second_factor_needed};
use crate::auth::token::{random_token, token_hash};
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// What a session still owes at sign-in.
#[derive(Serialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorStep {
    Verify,
    Enroll,
}

/// A new session: its token (shown once, kept only as a hash) and record.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub session: SessionRecord,
    pub user: User,
    /// Set when a second factor is owed before anything else.
    pub second_factor: Option<SecondFactorStep>,
}

/// Why an account of this status may not sign in, if it may not.
pub(crate) fn status_refusal(status: UserStatus) -> Option<ServiceError> {
    let (code, message) = match status {
        UserStatus::Active => return None,
        UserStatus::Pending => (
            "account_pending",
            "this account awaits an administrator's approval",
        ),
        UserStatus::Suspended => (
            "account_suspended",
            "this account is suspended; ask your administrator",
        ),
        UserStatus::Retired => ("account_retired", "this account has been retired"),
    };
    Some(ServiceError::new(Kind::Forbidden, code, message))
}

/// Signs in with login and password: a back-off per typed login (known or not, the answers
/// are the same), then the lock and status (only the right password learns them), then a
/// session, audited.
pub async fn login(svc: &Services, login: &str, password: &str) -> ServiceResult<SignedIn> {
    let key = login_key(login);
    backoff::check(svc, &key).await?;
    let store = &svc.store;
    let user = match store.user_by_login(login).await {
        Err(StoreError::NotFound) => {
            svc.hasher.waste_verification().await;
            return Err(backoff::record_failure(svc, &key, None).await);
        }
        other => other.or_service("user_not_found")?,
    };
    let creds = store
        .credentials(user.id)
        .await
        .or_service("user_not_found")?;
    let matches = password.len() <= MAX_SECRET_BYTES
        && svc.hasher.verify(password, &creds.password_hash).await?;
    if !matches {
        return Err(backoff::record_failure(svc, &key, Some(&user)).await);
    }
    store
        .clear_sign_in_failures(&key)
        .await
        .or_service("user_not_found")?;
    if let Some(until) = creds.locked_until.filter(|u| *u > Timestamp::now()) {
        return Err(account_locked(until));
    }
    if let Some(refusal) = status_refusal(user.status) {
        return Err(refusal);
    }
    let org = store.org(user.org_id).await.or_service("user_not_found")?;
    let break_glass = crate::auth::sso::config::password_allowed(svc, &user).await?;
    let enrolled = creds.has_second_factor();
    let second_factor = second_factor_step(&user, &org, enrolled, false);
    // With a second factor to come, only that success clears the count: otherwise signing
    // in again would give whoever knows the password endless guesses at the code.
    if second_factor.is_none() {
        store
            .clear_failed_attempts(user.id)
            .await
            .or_service("user_not_found")?;
    }
    let (token, session) = new_session(svc, &user, creds.passcode_hash.is_some(), false);
    let mut event = AuditEvent::new(
        "auth.login",
        Some(user.org_id),
        Some(user.id),
        "session",
        Some(session.id),
    );
    if break_glass {
        event = event.with_details(serde_json::json!({"break_glass": true}));
    }
    store
        .open_session(&session, &event)
        .await
        .or_service("user_not_found")?;
    Ok(SignedIn {
        token,
        session,
        user,
        second_factor,
    })
}

/// What second factor a new session of `user` owes: none when not needed or already done
/// (the identity provider's, trusted), else a code or an enrollment.
pub(crate) fn second_factor_step(
    user: &User,
    org: &Organization,
    enrolled: bool,
    done: bool,
) -> Option<SecondFactorStep> {
    match (second_factor_needed(user, org, enrolled) && !done, enrolled) {
        (false, _) => None,
        (true, true) => Some(SecondFactorStep::Verify),
        (true, false) => Some(SecondFactorStep::Enroll),
    }
}

/// A new session of `user` (not stored yet) and its bearer token: locked when the user has a
/// passcode, with its second factor done or not.
pub(crate) fn new_session(
    svc: &Services,
    user: &User,
    locked: bool,
    second_factor_done: bool,
) -> (String, SessionRecord) {
    let now = Timestamp::now();
    let token = random_token();
    let session = SessionRecord {
        id: renkei_core::new_id(),
        user_id: user.id,
        token_hash: token_hash(&token),
        csrf_token: random_token(),
        created_at: now,
        last_seen_at: now,
        expires_at: now.plus_secs(svc.settings.session_ttl_hours * 3600),
        locked,
        second_factor_done,
    };
    (token, session)
}

/// Ends the caller's session, audited; its sockets close on every node.
pub async fn logout(svc: &Services, caller: &Authed) -> ServiceResult<()> {
    let event = AuditEvent::new(
        "auth.logout",
        Some(caller.user.org_id),
        Some(caller.user.id),
        "session",
        Some(caller.session.id),
    );
    svc.store
        .close_session(caller.session.id, &event)
        .await
        .or_service("session")?;
    svc.messaging.sessions_ended(caller.user.id);
    Ok(())
}

/// Unlocks the caller's passcode-locked session; a wrong passcode counts towards the lock.
pub async fn unlock(svc: &Services, caller: &Authed, passcode: &str) -> ServiceResult<()> {
    second_factor_gate(caller)?;
    let user = &caller.user;
    let creds = svc
        .store
        .credentials(user.id)
        .await
        .or_service("user_not_found")?;
    let Some(passcode_hash) = creds.passcode_hash else {
        return Err(ServiceError::new(
            Kind::Conflict,
            "no_passcode",
            "no passcode is set for this account",
        ));
    };
    let matches =
        passcode.len() <= MAX_SECRET_BYTES && svc.hasher.verify(passcode, &passcode_hash).await?;
    if !matches {
        let wrong = ServiceError::new(Kind::Forbidden, "wrong_passcode", "wrong passcode");
        return Err(count_failure(svc, user, "auth.unlock_failed", wrong).await);
    }
    let event = AuditEvent::new(
        "auth.unlock",
        Some(user.org_id),
        Some(user.id),
        "session",
        Some(caller.session.id),
    );
    svc.store
        .unlock_session(&caller.session, Timestamp::now(), &event)
        .await
        .or_service("session")
}
