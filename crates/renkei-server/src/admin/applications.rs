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
use crate::error::{ApiError, ApiResult, OrApi};

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

/// Creates the organization's invite link, or replaces it (the old link stops working).
pub async fn rotate_invite(store: &Store, actor: Uuid, org: &Organization) -> ApiResult<Invite> {
    let token = crate::auth::token::random_token();
    let event = AuditEvent::new(
        "org.invite_rotated",
        Some(org.id),
        Some(actor),
        "organization",
        Some(org.id),
    );
    store
        .set_invite(org.id, &token, &event)
        .await
        .or_api("organization_not_found")
}

/// Stores an application: a pending user with the applicant's own password. A login taken
/// anywhere gets the same answer as a stored application (so sign-up cannot tell which
/// logins exist); the attempt is in the organization's audit log for its administrators.
pub async fn apply(
    store: &Store,
    hasher: &Hasher,
    org: &Organization,
    input: SignUp,
) -> ApiResult<UserStatus> {
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
                .or_api("user_not_found")?;
        }
        Err(e) => return Err(ApiError::from_store(e, "user_not_found")),
    }
    Ok(UserStatus::Pending)
}
