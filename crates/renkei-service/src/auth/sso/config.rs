//! An organization's single sign-on settings as its administrators keep them (the client secret
//! is sealed and never shown again), and what they mean for password sign-in (enforced SSO,
//! break-glass accounts).

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::sso::SsoSettings;
use renkei_core::user::User;
use renkei_store::{SsoConfig, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::secret;
use crate::Services;
use crate::accounts::orgs::administered_org;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// Longest client secret accepted.
const MAX_SECRET_BYTES: usize = 1024;

/// An administrator's settings for the organization's provider.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoConfigInput {
    pub settings: SsoSettings,
    /// The client secret: required the first time, left out to keep the stored one.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The version this edit was made against (left out when creating).
    #[serde(default)]
    pub version: Option<i64>,
}

/// The organization's provider as its administrators see it: never the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SsoConfigView {
    pub org_id: Uuid,
    pub settings: SsoSettings,
    /// A client secret is stored (sealed with the master key).
    pub client_secret_set: bool,
    pub version: i64,
    pub updated_at: Timestamp,
    /// The callback to register at the provider, under renkei's address.
    pub redirect_path: String,
    /// The back-channel logout endpoint to register at the provider.
    pub backchannel_logout_path: String,
}

/// The path of the callback every organization's provider sends people back to.
pub const CALLBACK_PATH: &str = "/api/v1/auth/sso/callback";

fn view(config: &SsoConfig) -> SsoConfigView {
    SsoConfigView {
        org_id: config.org_id,
        settings: config.settings.clone(),
        client_secret_set: !config.sealed_secret.is_empty(),
        version: config.version,
        updated_at: config.updated_at,
        redirect_path: CALLBACK_PATH.into(),
        backchannel_logout_path: format!("/api/v1/auth/sso/{}/backchannel-logout", config.org_id),
    }
}

/// Organization `org_id`'s provider, if any (its administrators).
pub async fn get(
    svc: &Services,
    actor: &User,
    org_id: Uuid,
) -> ServiceResult<Option<SsoConfigView>> {
    let org = administered_org(svc, actor, org_id).await?;
    let config = svc
        .store
        .sso_config(org.id)
        .await
        .or_service("sso_not_configured")?;
    Ok(config.as_ref().map(view))
}

/// Sets organization `org_id`'s provider (its administrators): settings validated, the
/// break-glass accounts of this organization, the secret sealed; audited without the secret.
pub async fn put(
    svc: &Services,
    actor: &User,
    org_id: Uuid,
    input: SsoConfigInput,
) -> ServiceResult<SsoConfigView> {
    let org = administered_org(svc, actor, org_id).await?;
    let settings = input.settings.validated()?;
    for user_id in &settings.break_glass {
        let user = match svc.store.user(*user_id).await {
            Err(StoreError::NotFound) => None,
            other => Some(other.or_service("user_not_found")?),
        };
        if user.is_none_or(|u| u.org_id != org.id) {
            return Err(ServiceError::invalid(
                "invalid_break_glass",
                "break-glass accounts must be accounts of this organization",
            ));
        }
    }
    let current = svc
        .store
        .sso_config(org.id)
        .await
        .or_service("sso_not_configured")?;
    let secret_given = input.client_secret.as_deref().map(str::trim);
    let (key, sealed_secret) = match (secret_given, &current) {
        (Some(s), _) if !s.is_empty() && s.len() <= MAX_SECRET_BYTES => {
            secret::seal(&svc.media.blobs, org.id, s)?
        }
        (Some(_), _) => {
            return Err(ServiceError::invalid(
                "invalid_client_secret",
                "client_secret must be 1-1024 bytes",
            ));
        }
        (None, Some(c)) => (c.key.clone(), c.sealed_secret.clone()),
        (None, None) => {
            return Err(ServiceError::invalid(
                "client_secret_required",
                "give the client secret the identity provider issued",
            ));
        }
    };
    let expected = match (&current, input.version) {
        (None, _) => None,
        (Some(c), Some(v)) if v == c.version => Some(v),
        (Some(c), _) => return Err(ServiceError::version_conflict(view(c))),
    };
    let config = SsoConfig {
        org_id: org.id,
        settings,
        key,
        sealed_secret,
        version: current.as_ref().map_or(1, |c| c.version + 1),
        updated_at: Timestamp::now(),
    };
    let event = AuditEvent::new(
        "org.sso_updated",
        Some(org.id),
        Some(actor.id),
        "organization",
        Some(org.id),
    )
    .with_details(json!({
        "issuer": config.settings.issuer,
        "client_id": config.settings.client_id,
        "login_claim": config.settings.login_claim,
        "unknown_users": config.settings.unknown_users,
        "trusted_amr": config.settings.trusted_amr,
        "trusted_acr": config.settings.trusted_acr,
        "enforced": config.settings.enforced,
        "break_glass": config.settings.break_glass,
        "client_secret_changed": secret_given.is_some(),
    }));
    match svc.store.put_sso_config(&config, expected, &event).await {
        Err(StoreError::Stale) => {
            let now = svc
                .store
                .sso_config(org.id)
                .await
                .or_service("sso_not_configured")?;
            return Err(match now {
                Some(c) => ServiceError::version_conflict(view(&c)),
                None => ServiceError::new(Kind::Conflict, "version_conflict", "removed meanwhile"),
            });
        }
        other => other.or_service("sso_not_configured")?,
    }
    if let Some(c) = &current {
        svc.sso.forget(&c.settings.issuer);
    }
    svc.sso.forget(&config.settings.issuer);
    Ok(view(&config))
}

/// Removes organization `org_id`'s provider (its administrators); audited.
pub async fn delete(svc: &Services, actor: &User, org_id: Uuid) -> ServiceResult<()> {
    let org = administered_org(svc, actor, org_id).await?;
    let event = AuditEvent::new(
        "org.sso_removed",
        Some(org.id),
        Some(actor.id),
        "organization",
        Some(org.id),
    );
    svc.store
        .delete_sso_config(org.id, &event)
        .await
        .or_service("sso_not_configured")
}

/// Whether `user` may sign in with a password: refused (`sso_required`) when the organization
/// enforces single sign-on and the account is not break-glass. `Ok(true)` for a break-glass
/// account signing in while it is enforced (the sign-in entry says so).
pub async fn password_allowed(svc: &Services, user: &User) -> ServiceResult<bool> {
    let config = svc
        .store
        .sso_config(user.org_id)
        .await
        .or_service("user_not_found")?;
    match config {
        Some(c) if c.settings.enforced => {
            if c.settings.break_glass.contains(&user.id) {
                Ok(true)
            } else {
                Err(ServiceError::new(
                    Kind::Forbidden,
                    "sso_required",
                    "this organization signs in with the hospital's account (病院のアカウントでサインイン)",
                ))
            }
        }
        _ => Ok(false),
    }
}

/// The organizations people can sign in to through a provider (id and name).
pub async fn sign_in_choices(svc: &Services) -> ServiceResult<Vec<(Uuid, String)>> {
    svc.store.sso_orgs().await.or_service("sso_not_configured")
}
