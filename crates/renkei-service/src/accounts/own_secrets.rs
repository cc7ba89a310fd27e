//! A signed-in user's own secrets: setting the device passcode, and replacing the password
//! (which ends their other sessions).

use renkei_core::audit::AuditEvent;
use renkei_core::user::User;
use renkei_core::{password_rules, validate};

use crate::Services;
use crate::auth::session::Authed;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

fn own(action: &'static str, user: &User) -> AuditEvent {
    AuditEvent::new(
        action,
        Some(user.org_id),
        Some(user.id),
        "user",
        Some(user.id),
    )
}

/// Sets or changes the caller's device passcode (4 to 12 digits).
pub async fn set_passcode(svc: &Services, caller: &Authed, passcode: &str) -> ServiceResult<()> {
    validate::passcode(passcode)?;
    let hash = svc.hasher.hash(passcode).await?;
    let user = &caller.user;
    svc.store
        .set_passcode(user.id, Some(&hash), &own("auth.passcode_set", user))
        .await
        .or_service("user_not_found")
}

/// Replaces the caller's password, given the current one; every other session of theirs
/// ends, and their live connections close.
pub async fn change_password(
    svc: &Services,
    caller: &Authed,
    current: &str,
    new: &str,
) -> ServiceResult<()> {
    let user = &caller.user;
    password_rules::check(
        new,
        &user.login,
        &[&user.display_name, &user.kana, &user.romaji],
    )?;
    let creds = svc
        .store
        .credentials(user.id)
        .await
        .or_service("user_not_found")?;
    if !svc.hasher.verify(current, &creds.password_hash).await? {
        return Err(ServiceError::new(
            Kind::Forbidden,
            "wrong_password",
            "the current password is wrong",
        ));
    }
    if new == current {
        return Err(ServiceError::invalid(
            "password_unchanged",
            "choose a password different from the current one",
        ));
    }
    let hash = svc.hasher.hash(new).await?;
    let event = own("auth.password_changed", user);
    svc.store
        .set_password(user.id, &hash, false, Some(caller.session.id), &event)
        .await
        .or_service("user_not_found")?;
    svc.messaging.sessions_ended(user.id);
    Ok(())
}
