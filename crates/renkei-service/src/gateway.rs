//! Edge gateways, server side: their tokens, what they are told (the organization's
//! de-identification key, limits and DICOM peers), and who may upload over STOW-RS.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::{Gateway, GatewayConfig, NewGateway};
use renkei_core::org::Organization;
use renkei_store::Store;

use crate::Services;
use crate::accounts::orgs::{administered_org, require_administers};
use crate::auth::session::Authed;
use crate::auth::token::{random_token, token_hash};
use crate::dicom::IngestSource;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Every gateway token starts with this, so the server knows which kind of token it holds.
pub const TOKEN_PREFIX: &str = "rkg_";
/// How stale a gateway's `last_seen_at` may get before a call refreshes it.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Adds a gateway to `org` and returns it with its token, shown this once (audited).
pub async fn create_gateway(
    store: &Store,
    actor: Option<Uuid>,
    org: &Organization,
    input: &NewGateway,
) -> ServiceResult<(Gateway, String)> {
    let gateway = input.build(org.id, Timestamp::now())?;
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let event = AuditEvent::new(
        "gateway.add",
        Some(org.id),
        actor,
        "gateway",
        Some(gateway.id),
    )
    .with_details(serde_json::json!({"name": gateway.name}));
    store
        .insert_gateway(&gateway, &token_hash(&token), &event)
        .await
        .or_service("organization_not_found")?;
    Ok((gateway, token))
}

/// Removes a gateway; its token stops working at once (audited).
pub async fn remove_gateway(
    store: &Store,
    actor: Option<Uuid>,
    org: Uuid,
    name: &str,
) -> ServiceResult<()> {
    store
        .delete_gateway(org, name, |gateway| {
            AuditEvent::new(
                "gateway.remove",
                Some(org),
                actor,
                "gateway",
                Some(gateway.id),
            )
            .with_details(serde_json::json!({"name": gateway.name}))
        })
        .await
        .or_service("gateway_not_found")?;
    Ok(())
}

/// Organization `org`'s gateways (its administrators).
pub async fn list_gateways(
    state: &Services,
    me: &Authed,
    org: Uuid,
) -> ServiceResult<Vec<Gateway>> {
    let org = administered_org(state, &me.user, org).await?;
    state
        .store
        .gateways(org.id)
        .await
        .or_service("organization_not_found")
}

/// Adds a gateway to organization `org` for its administrator `me`; its token is shown once.
pub async fn add_gateway(
    state: &Services,
    me: &Authed,
    org: Uuid,
    input: &NewGateway,
) -> ServiceResult<(Gateway, String)> {
    let org = administered_org(state, &me.user, org).await?;
    create_gateway(&state.store, Some(me.user.id), &org, input).await
}

/// Removes gateway `name` of organization `org` for its administrator `me`.
pub async fn delete_gateway(
    state: &Services,
    me: &Authed,
    org: Uuid,
    name: &str,
) -> ServiceResult<()> {
    require_administers(&me.user, org)?;
    remove_gateway(&state.store, Some(me.user.id), org, name).await
}

/// A caller holding a gateway token.
#[derive(Debug, Clone)]
pub struct GatewayCaller {
    pub gateway: Gateway,
    pub org: Organization,
}

/// The refusal of a token that is not a gateway's.
pub fn refused() -> ServiceError {
    ServiceError::unauthenticated("invalid_gateway_token", "the gateway token is not valid")
}

impl GatewayCaller {
    /// The gateway behind `token`, noting that it was seen.
    pub async fn from_token(state: &Services, token: &str) -> ServiceResult<GatewayCaller> {
        let gateway = state
            .store
            .gateway_by_token(&token_hash(token))
            .await
            .map_err(|e| match e {
                renkei_store::StoreError::NotFound => refused(),
                other => ServiceError::from_store(other, "gateway_not_found"),
            })?;
        let org = state
            .store
            .org(gateway.org_id)
            .await
            .or_service("organization_not_found")?;
        let now = Timestamp::now();
        let stale = gateway
            .last_seen_at
            .is_none_or(|seen| now.millis() - seen.millis() > TOUCH_EVERY_MS);
        if stale {
            state
                .store
                .touch_gateway(gateway.id, now)
                .await
                .or_service("gateway_not_found")?;
        }
        Ok(GatewayCaller { gateway, org })
    }

    /// What this gateway needs to de-identify exactly as the server does.
    pub async fn config(&self, state: &Services) -> ServiceResult<GatewayConfig> {
        let ctx = state
            .dicom
            .context(&self.org)
            .await
            .map_err(|e| e.error())?;
        let peers = state
            .store
            .dicom_peers(self.org.id)
            .await
            .or_service("organization_not_found")?;
        let redaction_rules = state
            .store
            .redaction_rules(self.org.id)
            .await
            .or_service("organization_not_found")?;
        Ok(GatewayConfig {
            org_id: self.org.id,
            org_name: self.org.name.clone(),
            gateway_name: self.gateway.name.clone(),
            deid_secret: STANDARD.encode(ctx.org_secret),
            patient_id_digits: ctx.patient_id_digits,
            max_instance_bytes: self.org.policy.max_upload_bytes(),
            peers,
            redaction_rules,
        })
    }
}

/// Who uploads DICOM: a signed-in member (instances are de-identified on arrival) or a
/// gateway of the organization (instances arrive de-identified and are checked).
pub struct Uploader {
    pub org: Organization,
    pub source: IngestSource,
}

impl Uploader {
    /// The organization the instances belong to.
    pub fn org(&self) -> &Organization {
        &self.org
    }

    /// How the instances must be treated.
    pub fn source(&self) -> IngestSource {
        self.source
    }
}
