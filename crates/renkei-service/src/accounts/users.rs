//! Users' audited changes, shared by the HTTP API and the `renkei admin` command line
//! (`actor` is `None` there): create, edit, credential resets, applications decided, sign-in
//! released, each with its audit entry in the same transaction.

use renkei_core::Uuid;
use renkei_core::audit::{AuditEvent, changes};
use renkei_core::clock::Timestamp;
use renkei_core::org::Organization;
use renkei_core::user::{NewUser, User, UserPatch};
use renkei_store::{Store, StoreError};
use serde_json::json;

use super::saved_or_conflict;
use crate::auth::password::Hasher;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// Refuses a department that is not one of `org_id`'s.
pub(crate) async fn check_department(
    store: &Store,
    org_id: Uuid,
    department: Option<Uuid>,
) -> ServiceResult<()> {
    let Some(id) = department else { return Ok(()) };
    match store.department(id).await {
        Ok(d) if d.org_id == org_id => Ok(()),
        Ok(_) | Err(StoreError::NotFound) => Err(ServiceError::new(
            Kind::Invalid,
            "department_not_found",
            "no such department in this organization",
        )),
        Err(e) => Err(ServiceError::from_store(e, "department_not_found")),
    }
}

/// Refuses affiliations with organizations that do not exist.
async fn check_affiliations(store: &Store, user: &User) -> ServiceResult<()> {
    for a in &user.affiliations {
        match store.org(a.org_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(ServiceError::new(
                    Kind::Invalid,
                    "organization_not_found",
                    "an affiliation names an organization that does not exist",
                ));
            }
            Err(e) => return Err(ServiceError::from_store(e, "organization_not_found")),
        }
    }
    Ok(())
}

/// Creates a user in `org` with a one-time password they must replace at first sign-in.
pub async fn create_user(
    store: &Store,
    hasher: &Hasher,
    actor: Option<Uuid>,
    org: &Organization,
    input: NewUser,
) -> ServiceResult<User> {
    let user = input.build(org.id, Timestamp::now())?;
    check_department(store, org.id, user.department_id).await?;
    check_affiliations(store, &user).await?;
    let hash = hasher.hash(&input.who.password).await?;
    let event = AuditEvent::new("user.create", Some(org.id), actor, "user", Some(user.id))
        .with_details(json!({
            "login": user.login,
            "profession": user.profession,
            "roles": user.roles,
            "status": user.status,
        }));
    store
        .insert_user(&user, &hash, &event)
        .await
        .or_service("user_not_found")?;
    Ok(user)
}

/// Applies an admin's edit to a user, if it is still at `version`. Suspending or retiring
/// ends every session of the user in the same transaction.
pub async fn update_user(
    store: &Store,
    actor: Option<Uuid>,
    user: &User,
    patch: &UserPatch,
    version: i64,
) -> ServiceResult<User> {
    let next = patch.apply(user)?;
    check_department(store, user.org_id, next.department_id).await?;
    if next.affiliations != user.affiliations {
        check_affiliations(store, &next).await?;
    }
    let action = if next.status != user.status {
        "user.status"
    } else {
        "user.update"
    };
    let event = AuditEvent::new(action, Some(user.org_id), actor, "user", Some(user.id))
        .with_details(json!({"changes": changes(user, &next)}));
    let saved = store.update_user(&next, version, &event).await;
    saved_or_conflict(saved, store.user(user.id), "user_not_found").await
}

/// Gives a user a new one-time password (returned once, never stored in clear), clears
/// their lockout and ends every session. The user must choose a password at next sign-in.
pub async fn reset_password(
    store: &Store,
    hasher: &Hasher,
    actor: Option<Uuid>,
    user: &User,
) -> ServiceResult<String> {
    let password = crate::auth::token::random_password(16);
    let hash = hasher.hash(&password).await?;
    let event = AuditEvent::new(
        "user.password_reset",
        Some(user.org_id),
        actor,
        "user",
        Some(user.id),
    );
    store
        .reset_credentials(user.id, Some(&hash), false, &event)
        .await
        .or_service("user_not_found")?;
    Ok(password)
}

/// Clears a user's device passcode (they set a new one at next sign-in) and ends every
/// session.
pub async fn reset_passcode(store: &Store, actor: Option<Uuid>, user: &User) -> ServiceResult<()> {
    let event = AuditEvent::new(
        "user.passcode_reset",
        Some(user.org_id),
        actor,
        "user",
        Some(user.id),
    );
    store
        .reset_credentials(user.id, None, true, &event)
        .await
        .or_service("user_not_found")
}

/// Approves (active) or rejects (retired) a pending application.
pub async fn decide_application(
    store: &Store,
    actor: Option<Uuid>,
    user: &User,
    approve: bool,
) -> ServiceResult<User> {
    if user.status != renkei_core::user::UserStatus::Pending {
        return Err(ServiceError::new(
            Kind::Conflict,
            "not_pending",
            "this account is not awaiting approval",
        ));
    }
    let status = if approve {
        renkei_core::user::UserStatus::Active
    } else {
        renkei_core::user::UserStatus::Retired
    };
    let patch = UserPatch {
        status: Some(status),
        ..UserPatch::default()
    };
    update_user(store, actor, user, &patch, user.version).await
}

/// Lifts a user's sign-in back-off and passcode lock and forgets the failures counted
/// (audited as `user.sign_in_released` with what was lifted); their sessions are untouched.
pub async fn release_sign_in(store: &Store, actor: Option<Uuid>, user: &User) -> ServiceResult<()> {
    let creds = store
        .credentials(user.id)
        .await
        .or_service("user_not_found")?;
    let failures = store
        .sign_in_failures(&user.login)
        .await
        .or_service("user_not_found")?;
    let event = AuditEvent::new(
        "user.sign_in_released",
        Some(user.org_id),
        actor,
        "user",
        Some(user.id),
    )
    .with_details(json!({
        "failures": failures.as_ref().map_or(0, |f| f.failures),
        "wait_until": failures.and_then(|f| f.wait_until),
        "locked_until": creds.locked_until,
    }));
    store
        .release_sign_in(user.id, &user.login, &event)
        .await
        .or_service("user_not_found")
}
