//! Applications: an organization's invite link, and the public sign-up it leads to, which
//! creates a pending account that signs in only once an administrator approves it.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::{Department, Organization};
use renkei_core::password_rules;
use renkei_core::user::{Applicant, NewUser, User, UserStatus};
use renkei_store::{Invite, StoreError};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::orgs::administered_org;
use crate::error::Kind;
use crate::error::{OrService, ServiceError, ServiceResult};
use crate::{Services, accounts};

/// Whether `token` could be an invite token at all (so junk never reaches the database).
pub fn plausible_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How long an invite link works unless its creator chooses otherwise.
pub const DEFAULT_INVITE_DAYS: u32 = 14;

/// The longest an invite link may work.
pub const MAX_INVITE_DAYS: u32 = 90;

/// How an administrator wants the new invite link.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteOptions {
    /// Days the link works, 1–90 (default 14).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// Organization `org_id`'s invite link, if it has one (its administrators).
pub async fn invite(svc: &Services, actor: &User, org_id: Uuid) -> ServiceResult<Option<Invite>> {
    let org = administered_org(svc, actor, org_id).await?;
    svc.store
        .invite(org.id)
        .await
        .or_service("organization_not_found")
}

/// Creates organization `org_id`'s invite link, or replaces it (the old link stops working;
/// its administrators).
pub async fn rotate_invite(
    svc: &Services,
    actor: &User,
    org_id: Uuid,
    options: &InviteOptions,
) -> ServiceResult<Invite> {
    let org = administered_org(svc, actor, org_id).await?;
    let days = options.expires_in_days.unwrap_or(DEFAULT_INVITE_DAYS);
    if !(1..=MAX_INVITE_DAYS).contains(&days) {
        return Err(ServiceError::bad_request(
            "invalid_invite_expiry",
            format!("expires_in_days must be 1-{MAX_INVITE_DAYS}"),
        ));
    }
    let now = Timestamp::now();
    let expires_at = now.plus_secs(i64::from(days) * 86_400);
    let token = crate::auth::token::random_token();
    let event = AuditEvent::new(
        "org.invite_rotated",
        Some(org.id),
        Some(actor.id),
        "organization",
        Some(org.id),
    )
    .with_details(json!({"expires_at": expires_at, "expires_in_days": days}));
    svc.store
        .set_invite(org.id, &token, now, expires_at, &event)
        .await
        .or_service("organization_not_found")
}

/// Revokes organization `org_id`'s invite link (its administrators): the sign-up page
/// answers `invite_revoked`.
pub async fn revoke_invite(svc: &Services, actor: &User, org_id: Uuid) -> ServiceResult<Invite> {
    let org = administered_org(svc, actor, org_id).await?;
    let event = AuditEvent::new(
        "org.invite_revoked",
        Some(org.id),
        Some(actor.id),
        "organization",
        Some(org.id),
    );
    svc.store
        .revoke_invite(org.id, &event)
        .await
        .or_service("invite_not_found")
}

/// Whether an invite still opens the sign-up page: 410 `invite_revoked` or
/// `invite_expired` otherwise.
pub fn check_usable(invite: &Invite, now: Timestamp) -> ServiceResult<()> {
    if invite.revoked_at.is_some() {
        return Err(ServiceError::new(
            Kind::Gone,
            "invite_revoked",
            "this invite link was revoked; ask the hospital's administrator for a new one",
        ));
    }
    if now >= invite.expires_at {
        return Err(ServiceError::new(
            Kind::Gone,
            "invite_expired",
            "this invite link has expired; ask the hospital's administrator for a new one",
        ));
    }
    Ok(())
}

/// The organization whose usable invite link `token` is (`invite_not_found` for junk and
/// unknown links, 410 for revoked or expired ones).
async fn invited_org(svc: &Services, token: &str) -> ServiceResult<Organization> {
    if !plausible_token(token) {
        return Err(ServiceError::not_found("invite_not_found"));
    }
    let (org, invite) = svc
        .store
        .org_by_invite(token)
        .await
        .or_service("invite_not_found")?;
    check_usable(&invite, Timestamp::now())?;
    Ok(org)
}

/// What the sign-up page of invite link `token` offers: the organization and its
/// departments (no sign-in).
pub async fn sign_up_form(
    svc: &Services,
    token: &str,
) -> ServiceResult<(Organization, Vec<Department>)> {
    let org = invited_org(svc, token).await?;
    let departments = svc
        .store
        .list_departments(org.id)
        .await
        .or_service("organization_not_found")?;
    Ok((org, departments))
}

/// Stores an application through invite link `token`: a pending user with the applicant's
/// own password. A login taken anywhere gets the same answer as a stored application (so
/// sign-up cannot tell which logins exist); the attempt is in the organization's audit log
/// for its administrators.
pub async fn sign_up(svc: &Services, token: &str, input: Applicant) -> ServiceResult<UserStatus> {
    let org = invited_org(svc, token).await?;
    let store = &svc.store;
    let user = NewUser::application(input.clone(), org.id, Timestamp::now())?;
    password_rules::check(
        &input.password,
        &user.login,
        &[&user.display_name, &user.kana, &user.romaji],
    )?;
    accounts::check_department(store, org.id, user.department_id).await?;
    let hash = svc.hasher.hash(&input.password).await?;
    let event = AuditEvent::new("user.apply", Some(org.id), None, "user", Some(user.id))
        .with_details(json!({"login": user.login, "profession": user.profession}));
    match store.insert_user(&user, &hash, &event).await {
        Ok(()) => {}
        Err(StoreError::Duplicate("login_taken")) => {
            let refused = AuditEvent::new("user.apply_refused", Some(org.id), None, "user", None)
                .with_details(json!({"login": user.login, "reason": "login_taken"}));
            store
                .append_audit(&refused)
                .await
                .or_service("user_not_found")?;
        }
        Err(e) => return Err(ServiceError::from_store(e, "user_not_found")),
    }
    Ok(UserStatus::Pending)
}
