//! Applications: an organization's invite link, and the public sign-up it leads to, which
//! creates a pending account that signs in only once an administrator approves it.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::Organization;
use renkei_core::password_rules;
use renkei_core::user::{NewUser, Profession, UserStatus};
use renkei_store::{Invite, Store, StoreError};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts;
use crate::auth::password::Hasher;
use crate::error::Kind;
use crate::error::{OrService, ServiceError, ServiceResult};

/// What an applicant gives on the sign-up page.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub kana: String,
    #[serde(default)]
    pub romaji: Option<String>,
    pub profession: Profession,
    #[serde(default)]
    pub department_id: Option<Uuid>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The applicant's own password (kept once approved).
    pub password: String,
}

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

/// Creates the organization's invite link, or replaces it (the old link stops working).
pub async fn rotate_invite(
    store: &Store,
    actor: Uuid,
    org: &Organization,
    options: &InviteOptions,
) -> ServiceResult<Invite> {
    let days = options.expires_in_days.unwrap_or(DEFAULT_INVITE_DAYS);
    if !(1..=MAX_INVITE_DAYS).contains(&days) {
        return Err(ServiceError::bad_request(
            "invalid_invite_expiry",
            format!("expires_in_days must be 1-{MAX_INVITE_DAYS}"),
        ));
    }
    let expires_at = Timestamp::now().plus_secs(i64::from(days) * 86_400);
    let token = crate::auth::token::random_token();
    let event = AuditEvent::new(
        "org.invite_rotated",
        Some(org.id),
        Some(actor),
        "organization",
        Some(org.id),
    )
    .with_details(json!({"expires_at": expires_at, "expires_in_days": days}));
    store
        .set_invite(org.id, &token, expires_at, &event)
        .await
        .or_service("organization_not_found")
}

/// Revokes the organization's invite link: the sign-up page answers `invite_revoked`.
pub async fn revoke_invite(
    store: &Store,
    actor: Uuid,
    org: &Organization,
) -> ServiceResult<Invite> {
    let event = AuditEvent::new(
        "org.invite_revoked",
        Some(org.id),
        Some(actor),
        "organization",
        Some(org.id),
    );
    store
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

/// Stores an application: a pending user with the applicant's own password. A login taken
/// anywhere gets the same answer as a stored application (so sign-up cannot tell which
/// logins exist); the attempt is in the organization's audit log for its administrators.
pub async fn apply(
    store: &Store,
    hasher: &Hasher,
    org: &Organization,
    input: SignUp,
) -> ServiceResult<UserStatus> {
    let new = NewUser {
        login: input.login,
        display_name: input.display_name,
        kana: input.kana,
        romaji: input.romaji,
        profession: input.profession,
        department_id: input.department_id,
        email: input.email,
        phone: input.phone,
        roles: Vec::new(),
        status: Some(UserStatus::Pending),
        staff_number: None,
        affiliations: Vec::new(),
        second_factor_required: false,
        password: input.password,
    };
    let mut user = new.build(org.id, Timestamp::now())?;
    user.must_change_password = false;
    password_rules::check(
        &new.password,
        &user.login,
        &[&user.display_name, &user.kana, &user.romaji],
    )?;
    accounts::check_department(store, org.id, user.department_id).await?;
    let hash = hasher.hash(&new.password).await?;
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
