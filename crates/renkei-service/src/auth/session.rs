//! Sessions as the services see them: the session behind a token with its lock state now, and
//! the gates a caller passes (second factor, passcode lock, one-time password, passcode policy).

use renkei_core::clock::Timestamp;
use renkei_core::lock::idle_locked;
use renkei_core::org::Organization;
use renkei_core::user::User;
use renkei_store::{SessionRecord, StoreError};

use crate::Services;
use crate::auth::token::token_hash;
use crate::error::{Kind, OrService, ServiceError};

/// How stale `last_seen_at` may get before a request refreshes it (saves a note per request).
const TOUCH_EVERY_MS: i64 = 15_000;

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Authed {
    pub session: SessionRecord,
    pub user: User,
    pub org: Organization,
    pub has_passcode: bool,
    /// Passcode-locked: no data until `POST /auth/unlock`.
    pub locked: bool,
    /// The user has a confirmed authenticator app.
    pub second_factor_enrolled: bool,
    /// The user's passkeys not flagged as cloned (each is a second factor too).
    pub passkeys: i64,
    /// A second factor is needed (user, organization or own enrollment) and this session has
    /// not passed it yet: nothing but enrolling or entering a code until then.
    pub second_factor_pending: bool,
}

impl Authed {
    /// Whether this user must pass a second factor at sign-in.
    pub fn second_factor_needed(&self) -> bool {
        second_factor_needed(&self.user, &self.org, self.has_second_factor())
    }

    /// Whether the user has a second factor to pass: an authenticator app or a passkey.
    pub fn has_second_factor(&self) -> bool {
        self.second_factor_enrolled || self.passkeys > 0
    }
}

/// Whether `user` must pass a second factor: their own flag, their organization's policy, or
/// an authenticator app or passkey they enrolled themselves (`enrolled`).
pub fn second_factor_needed(user: &User, org: &Organization, enrolled: bool) -> bool {
    user.second_factor_required || org.policy.second_factor_required || enrolled
}

/// The session behind `token`, with its lock state now. `active` records this as user
/// activity (which keeps the idle lock away); a background check passes `false`.
pub async fn session_for_token(
    state: &Services,
    token: &str,
    active: bool,
) -> Result<Authed, ServiceError> {
    let store = &state.store;
    let session = match store.session_by_token_hash(&token_hash(token)).await {
        Err(StoreError::NotFound) => {
            return Err(ServiceError::unauthenticated(
                "unauthenticated",
                "this session has ended; sign in again",
            ));
        }
        other => other.or_service("unauthenticated")?,
    };
    let now = Timestamp::now();
    if session.expires_at < now {
        store
            .delete_session(session.id)
            .await
            .or_service("session")?;
        return Err(ServiceError::unauthenticated(
            "session_expired",
            "this session has expired; sign in again",
        ));
    }
    let user = store
        .user(session.user_id)
        .await
        .or_service("unauthenticated")?;
    if !user.status.may_sign_in() {
        return Err(ServiceError::unauthenticated(
            "unauthenticated",
            "this account cannot sign in",
        ));
    }
    let org = store.org(user.org_id).await.or_service("unauthenticated")?;
    let creds = store
        .credentials(user.id)
        .await
        .or_service("unauthenticated")?;
    let has_passcode = creds.passcode_hash.is_some();
    let second_factor_pending = !session.second_factor_done
        && second_factor_needed(
            &user,
            &org,
            creds.second_factor_enrolled || creds.passkeys > 0,
        );
    // Activity noted but not written yet counts: the idle lock must not fall on a session
    // whose last request is still on its way to the database.
    let mut last_seen = state
        .touches
        .seen(session.id)
        .map_or(session.last_seen_at, |noted| {
            noted.max(session.last_seen_at)
        });
    let locked =
        session.locked || idle_locked(last_seen, now, org.policy.idle_lock_minutes, has_passcode);
    if locked && !session.locked {
        let id = session.id;
        state
            .messaging
            .writer()
            .exclusive(move |store| async move { store.lock_session(id).await })
            .await
            .or_service("session")?;
    } else if active && !locked && now.millis() - last_seen.millis() >= TOUCH_EVERY_MS {
        // Written with others within a second, off this caller's path.
        state.touches.note(session.id, now);
        last_seen = now;
    }
    let session = SessionRecord {
        last_seen_at: last_seen,
        ..session
    };
    Ok(Authed {
        session,
        user,
        org,
        has_passcode,
        locked,
        second_factor_enrolled: creds.second_factor_enrolled,
        passkeys: creds.passkeys,
        second_factor_pending,
    })
}

/// Refuses a session that may not see data: second factor owed, locked, one-time password
/// pending, or no passcode where the organization requires one.
pub fn member_gate(authed: &Authed) -> Result<(), ServiceError> {
    unlocked_gate(authed)?;
    if authed.user.must_change_password {
        return Err(ServiceError::new(
            Kind::Forbidden,
            "password_change_required",
            "replace your one-time password first (PUT /api/v1/me/password)",
        ));
    }
    if authed.org.policy.passcode_required && !authed.has_passcode {
        return Err(ServiceError::new(
            Kind::Forbidden,
            "passcode_required",
            "your organization requires a device passcode (PUT /api/v1/me/passcode)",
        ));
    }
    Ok(())
}

/// Refuses a session that owes its second factor or is passcode-locked.
pub fn unlocked_gate(authed: &Authed) -> Result<(), ServiceError> {
    second_factor_gate(authed)?;
    if authed.locked {
        return Err(session_locked());
    }
    Ok(())
}

/// Whether the caller may enroll a second factor (an authenticator app or a passkey): while
/// the session owes one and the user has none yet (there is nothing else to do), or once the
/// session is fully unlocked; never instead of passing the factor the user has.
pub fn enroll_gate(authed: &Authed) -> Result<(), ServiceError> {
    if !authed.second_factor_pending || authed.has_second_factor() {
        unlocked_gate(authed)?;
    }
    Ok(())
}

/// Refuses a session that owes its second factor.
pub fn second_factor_gate(authed: &Authed) -> Result<(), ServiceError> {
    if authed.second_factor_pending {
        let message = if authed.has_second_factor() {
            "enter the code of your authenticator app (POST /api/v1/auth/second-factor) or use \
             your passkey (POST /api/v1/auth/second-factor/passkey) first"
        } else {
            "set up an authenticator app (POST /api/v1/me/second-factor/enrollment) or a passkey \
             (POST /api/v1/me/passkeys/registration) first"
        };
        return Err(ServiceError::new(
            Kind::Forbidden,
            "second_factor_required",
            message,
        ));
    }
    Ok(())
}

fn session_locked() -> ServiceError {
    ServiceError::new(
        Kind::Locked,
        "session_locked",
        "this session is locked; enter your passcode",
    )
}
