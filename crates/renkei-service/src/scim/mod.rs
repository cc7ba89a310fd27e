//! Provisioning with SCIM 2.0: the organization's bearer token (created, rotated and revoked
//! by its administrators, shown once, kept hashed), the caller that holds it, and users
//! (`users`) and departments as groups (`groups`) changed through the audited account
//! functions, with the token as the audit entries' actor.

pub mod groups;
pub mod users;

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::Organization;
use renkei_core::scim::Fault;
use renkei_core::user::User;
use renkei_store::{ScimToken, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Services;
use crate::accounts::orgs::administered_org;
use crate::auth::token::{random_token, token_hash};
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// Every SCIM token starts with this.
pub const TOKEN_PREFIX: &str = "rks_";
/// How stale a token's `last_used_at` may get before a call refreshes it.
const TOUCH_EVERY_MS: i64 = 60_000;

/// An organization's provisioning set-up as its administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimSetup {
    /// The tenant URL's path, `/scim/v2/{org}`: the identity provider is given this URL
    /// (after the server's origin) and the token.
    pub path: String,
    /// `none` or `active`.
    pub status: String,
    pub created_at: Option<Timestamp>,
    /// The last time an identity provider called with the token (to the minute).
    pub last_used_at: Option<Timestamp>,
}

/// The path the organization's SCIM resources live under.
pub fn base_path(org: Uuid) -> String {
    format!("/scim/v2/{org}")
}

fn setup(org: Uuid, token: Option<ScimToken>) -> ScimSetup {
    ScimSetup {
        path: base_path(org),
        status: if token.is_some() { "active" } else { "none" }.to_owned(),
        created_at: token.as_ref().map(|t| t.created_at),
        last_used_at: token.and_then(|t| t.last_used_at),
    }
}

/// Organization `org`'s provisioning set-up (its administrators).
pub async fn status(svc: &Services, actor: &User, org: Uuid) -> ServiceResult<ScimSetup> {
    let org = administered_org(svc, actor, org).await?;
    let token = svc
        .store
        .scim_token(org.id)
        .await
        .or_service("organization_not_found")?;
    Ok(setup(org.id, token))
}

/// Creates organization `org`'s SCIM token, or replaces it (the old one stops working at
/// once); the token is returned this once (audited `scim.token_rotated`).
pub async fn rotate(svc: &Services, actor: &User, org: Uuid) -> ServiceResult<(ScimSetup, String)> {
    let org = administered_org(svc, actor, org).await?;
    let secret = format!("{TOKEN_PREFIX}{}", random_token());
    let token = ScimToken {
        id: renkei_core::new_id(),
        org_id: org.id,
        created_by: Some(actor.id),
        created_at: Timestamp::now(),
        last_used_at: None,
    };
    let event = AuditEvent::new(
        "scim.token_rotated",
        Some(org.id),
        Some(actor.id),
        "scim_token",
        Some(token.id),
    );
    svc.store
        .set_scim_token(&token, &token_hash(&secret), &event)
        .await
        .or_service("organization_not_found")?;
    Ok((setup(org.id, Some(token)), secret))
}

/// Revokes organization `org`'s SCIM token: provisioning stops at once (audited
/// `scim.token_revoked`); `scim_token_not_found` when there is none.
pub async fn revoke(svc: &Services, actor: &User, org: Uuid) -> ServiceResult<()> {
    let org = administered_org(svc, actor, org).await?;
    svc.store
        .revoke_scim_token(org.id, |token| {
            AuditEvent::new(
                "scim.token_revoked",
                Some(org.id),
                Some(actor.id),
                "scim_token",
                Some(token.id),
            )
        })
        .await
        .or_service("scim_token_not_found")?;
    Ok(())
}

/// An identity provider holding an organization's SCIM token.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    pub token: ScimToken,
    pub org: Organization,
}

/// The refusal of a token that is not this organization's SCIM token.
pub fn refused() -> ServiceError {
    ServiceError::unauthenticated(
        "invalid_scim_token",
        "the bearer token is not this organization's SCIM token",
    )
}

impl ScimCaller {
    /// The caller behind `token` on organization `org`'s tenant URL: another organization's
    /// token, a revoked or rotated one, or none at all is refused alike.
    pub async fn from_token(svc: &Services, org: &str, token: &str) -> ServiceResult<ScimCaller> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(refused());
        }
        let found = svc
            .store
            .scim_token_by_hash(&token_hash(token))
            .await
            .map_err(|e| match e {
                StoreError::NotFound => refused(),
                other => ServiceError::from_store(other, "scim_token_not_found"),
            })?;
        if Uuid::parse_str(org).ok() != Some(found.org_id) {
            return Err(refused());
        }
        let org = svc
            .store
            .org(found.org_id)
            .await
            .or_service("organization_not_found")?;
        let now = Timestamp::now();
        if found
            .last_used_at
            .is_none_or(|at| now.millis() - at.millis() > TOUCH_EVERY_MS)
        {
            svc.store
                .touch_scim_token(found.id, now)
                .await
                .or_service("scim_token_not_found")?;
        }
        Ok(ScimCaller { token: found, org })
    }

    /// The actor of every audit entry this caller causes: the token's id.
    pub fn actor(&self) -> Option<Uuid> {
        Some(self.token.id)
    }

    /// Where this organization's resources live.
    pub fn base(&self) -> String {
        base_path(self.org.id)
    }
}

/// A SCIM refusal as a service error: 400 with its `scimType` as the code.
pub fn fault(f: Fault) -> ServiceError {
    ServiceError::bad_request(f.scim_type, f.detail)
}

/// A resource that is not there, or not this organization's.
pub fn no_such(what: &'static str) -> ServiceError {
    ServiceError::new(
        Kind::NotFound,
        what,
        format!("no such {what} in this organization"),
    )
}

/// The id in a resource path (any text that is not an id names nothing).
fn id_of(text: &str, what: &'static str) -> ServiceResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| no_such(what))
}
