//! Edge gateways, server side: their tokens, what they are told (the organization's
//! de-identification key, limits and DICOM peers), and who may upload over STOW-RS.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::{Gateway, GatewayConfig, NewGateway};
use renkei_core::org::Organization;
use renkei_store::Store;

use crate::AppState;
use crate::auth::session::{Member, bearer_or_cookie};
use crate::auth::token::{random_token, token_hash};
use crate::dicom::IngestSource;
use crate::error::{ApiError, ApiResult, OrApi};

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
) -> ApiResult<(Gateway, String)> {
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
        .or_api("organization_not_found")?;
    Ok((gateway, token))
}

/// Removes a gateway; its token stops working at once (audited).
pub async fn remove_gateway(
    store: &Store,
    actor: Option<Uuid>,
    org: Uuid,
    name: &str,
) -> ApiResult<()> {
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
        .or_api("gateway_not_found")?;
    Ok(())
}

/// A caller holding a gateway token.
#[derive(Debug, Clone)]
pub struct GatewayCaller {
    pub gateway: Gateway,
    pub org: Organization,
}

fn refused() -> ApiError {
    ApiError::unauthenticated("invalid_gateway_token", "the gateway token is not valid")
}

impl GatewayCaller {
    async fn from_token(state: &AppState, token: &str) -> ApiResult<GatewayCaller> {
        let gateway = state
            .store
            .gateway_by_token(&token_hash(token))
            .await
            .map_err(|e| match e {
                renkei_store::StoreError::NotFound => refused(),
                other => ApiError::from_store(other, "gateway_not_found"),
            })?;
        let org = state
            .store
            .org(gateway.org_id)
            .await
            .or_api("organization_not_found")?;
        let now = Timestamp::now();
        let stale = gateway
            .last_seen_at
            .is_none_or(|seen| now.millis() - seen.millis() > TOUCH_EVERY_MS);
        if stale {
            state
                .store
                .touch_gateway(gateway.id, now)
                .await
                .or_api("gateway_not_found")?;
        }
        Ok(GatewayCaller { gateway, org })
    }

    /// What this gateway needs to de-identify exactly as the server does.
    pub async fn config(&self, state: &AppState) -> ApiResult<GatewayConfig> {
        let ctx = state
            .dicom
            .context(&self.org)
            .await
            .map_err(|e| e.api_error())?;
        let peers = state
            .store
            .dicom_peers(self.org.id)
            .await
            .or_api("organization_not_found")?;
        Ok(GatewayConfig {
            org_id: self.org.id,
            org_name: self.org.name.clone(),
            gateway_name: self.gateway.name.clone(),
            deid_secret: STANDARD.encode(ctx.org_secret),
            patient_id_digits: ctx.patient_id_digits,
            max_instance_bytes: self.org.policy.max_upload_bytes(),
            peers,
        })
    }
}

/// The gateway token of a request, when it carries one.
fn gateway_token(parts: &Parts) -> Option<String> {
    bearer_or_cookie(&parts.headers)
        .filter(|(token, via_cookie)| !via_cookie && token.starts_with(TOKEN_PREFIX))
        .map(|(token, _)| token)
}

impl FromRequestParts<AppState> for GatewayCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = gateway_token(parts).ok_or_else(refused)?;
        GatewayCaller::from_token(state, &token).await
    }
}

/// Who uploads DICOM: a signed-in member (instances are de-identified on arrival) or a
/// gateway of the organization (instances arrive de-identified and are checked).
pub struct Uploader {
    org: Organization,
    source: IngestSource,
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

impl FromRequestParts<AppState> for Uploader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        match gateway_token(parts) {
            Some(token) => Ok(Uploader {
                org: GatewayCaller::from_token(state, &token).await?.org,
                source: IngestSource::Gateway,
            }),
            None => {
                let Member(me) = Member::from_request_parts(parts, state).await?;
                Ok(Uploader {
                    org: me.org,
                    source: IngestSource::Identified,
                })
            }
        }
    }
}
