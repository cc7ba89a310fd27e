//! The second factor as a signed-in user meets it: its state, entering a code at sign-in,
//! and enrolling an authenticator app. Every code typed is read and checked in one place,
//! and every wrong or reused one counts towards the account lock.

use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::totp;
use renkei_core::user::User;
use renkei_store::{SecondFactor, StoreError};
use serde_json::json;

use super::lockout::count_failure;
use crate::Services;
use crate::auth::second_factor::{self as factor, Typed};
use crate::auth::session::{Authed, enroll_gate};
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// Whether this session's second factor is needed, set up and passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The user's flag, the organization's policy, or their own enrollment asks for one.
    pub required: bool,
    /// An authenticator app is set up.
    pub enrolled: bool,
    /// Passkeys that pass it (not flagged as cloned).
    pub passkeys: i64,
    /// This session has passed it (or none is needed).
    pub passed: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

/// A new secret to add to the authenticator app.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// The secret in base32.
    pub secret: String,
    /// `otpauth://totp/renkei:<login>?secret=…&issuer=renkei…`.
    pub otpauth_uri: String,
}

/// Which secret a typed code is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// A confirmed authenticator at sign-in: a TOTP code or a recovery code.
    SignIn,
    /// An enrollment being confirmed: a TOTP code only.
    Enrolling,
}

const FAILED: &str = "auth.second_factor_failed";

fn wrong_code() -> ServiceError {
    ServiceError::new(
        Kind::Forbidden,
        "wrong_code",
        "wrong code; enter the current code of your authenticator app",
    )
}

fn code_used() -> ServiceError {
    ServiceError::new(
        Kind::Forbidden,
        "code_already_used",
        "this code was used already; wait for the next one",
    )
}

fn unix_seconds() -> i64 {
    Timestamp::now().millis().div_euclid(1000)
}

/// Reads what `user` typed against the secret of `stage`: a wrong code is counted (and may
/// lock the account). Returns the enrollment and what the code proved.
async fn checked_code(
    svc: &Services,
    user: &User,
    code: &str,
    stage: Stage,
) -> ServiceResult<(SecondFactor, Typed)> {
    let stored = svc
        .store
        .second_factor(user.id)
        .await
        .or_service("user_not_found")?;
    let factor = match (stored, stage) {
        (Some(f), Stage::SignIn) if f.confirmed_at.is_some() => f,
        (Some(f), Stage::Enrolling) => f,
        (_, Stage::SignIn) => {
            return Err(ServiceError::new(
                Kind::Conflict,
                "not_enrolled",
                "no authenticator app is set up for this account",
            ));
        }
        (None, Stage::Enrolling) => {
            return Err(ServiceError::new(
                Kind::Conflict,
                "no_enrollment",
                "start setting up an authenticator app first",
            ));
        }
    };
    let secret = factor::open_secret(&svc.media.blobs, user.id, &factor)?;
    let typed = match stage {
        Stage::SignIn => factor::read_code(&secret, user.id, code, unix_seconds()),
        Stage::Enrolling => Typed::Totp(totp::matching_step(&secret, code, unix_seconds())),
    };
    if factor::proof(&typed).is_none() {
        return Err(count_failure(svc, user, FAILED, wrong_code()).await);
    }
    Ok((factor, typed))
}

/// The caller's second-factor state.
pub async fn status(svc: &Services, caller: &Authed) -> ServiceResult<Status> {
    let left = svc
        .store
        .recovery_codes_left(caller.user.id)
        .await
        .or_service("user_not_found")?;
    Ok(Status {
        required: caller.second_factor_needed(),
        enrolled: caller.second_factor_enrolled,
        passkeys: caller.passkeys,
        passed: !caller.second_factor_pending,
        recovery_codes_left: left,
    })
}

/// Passes the caller's session with a code of the authenticator app (a step later than the
/// last used) or an unused recovery code. Returns the recovery codes left.
pub async fn verify(svc: &Services, caller: &Authed, code: &str) -> ServiceResult<i64> {
    let user = &caller.user;
    let (_, typed) = checked_code(svc, user, code, Stage::SignIn).await?;
    let method = match typed {
        Typed::Totp(_) => "totp",
        Typed::Recovery(_) => "recovery_code",
    };
    let event = AuditEvent::new(
        "auth.second_factor",
        Some(user.org_id),
        Some(user.id),
        "session",
        Some(caller.session.id),
    )
    .with_details(json!({ "method": method }));
    let Some(proof) = factor::proof(&typed) else {
        return Err(count_failure(svc, user, FAILED, wrong_code()).await);
    };
    match svc
        .store
        .pass_second_factor(user.id, proof, caller.session.id, &event)
        .await
    {
        Ok(left) => Ok(left),
        Err(StoreError::Stale) => Err(count_failure(svc, user, FAILED, code_used()).await),
        Err(StoreError::NotFound) => Err(count_failure(svc, user, FAILED, wrong_code()).await),
        Err(e) => Err(ServiceError::from_store(e, "user_not_found")),
    }
}

/// A session may enroll while it owes its second factor and has none (it has nothing else to
/// do), or once it is fully unlocked (voluntary enrollment); not over a confirmed authenticator.
fn may_enroll(caller: &Authed) -> ServiceResult<()> {
    enroll_gate(caller)?;
    if caller.second_factor_enrolled {
        return Err(ServiceError::new(
            Kind::Conflict,
            "already_enrolled",
            "an authenticator app is set up already; an administrator can reset it",
        ));
    }
    Ok(())
}

/// Starts setting up an authenticator app: a new secret (replacing an unconfirmed one).
pub async fn start_enrollment(svc: &Services, caller: &Authed) -> ServiceResult<Enrollment> {
    may_enroll(caller)?;
    let user = &caller.user;
    let (secret, sealed) = factor::new_secret(&svc.media.blobs, user.id)?;
    svc.store
        .start_second_factor(user.id, &sealed)
        .await
        .or_service("user_not_found")?;
    Ok(Enrollment {
        secret: totp::base32(&secret),
        otpauth_uri: totp::otpauth_uri(&secret, &user.login),
    })
}

/// Finishes setting up with a first code from the app; the caller's session passes, and the
/// recovery codes are returned, once.
pub async fn confirm_enrollment(
    svc: &Services,
    caller: &Authed,
    code: &str,
) -> ServiceResult<Vec<String>> {
    may_enroll(caller)?;
    let user = &caller.user;
    let (factor, typed) = checked_code(svc, user, code, Stage::Enrolling).await?;
    let Typed::Totp(Some(step)) = typed else {
        return Err(count_failure(svc, user, FAILED, wrong_code()).await);
    };
    let codes = factor::new_recovery_codes()?;
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| factor::recovery_code_hash(user.id, c))
        .collect();
    let event = AuditEvent::new(
        "auth.second_factor_enrolled",
        Some(user.org_id),
        Some(user.id),
        "user",
        Some(user.id),
    );
    svc.store
        .confirm_second_factor(
            user.id,
            &factor.key.sealed,
            step,
            &hashes,
            caller.session.id,
            &event,
        )
        .await
        .or_service("user_not_found")?;
    Ok(codes)
}
