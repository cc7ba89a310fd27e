//! A user's push subscriptions: registering the browser's `PushSubscription.toJSON()` on an
//! allow-listed endpoint (audited), listing and removing their own, the server's public
//! VAPID key, and an organization administrator's overview of devices (no endpoints).

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_store::NewPushSubscription;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::endpoint_allow;
use super::sender::parse_keys;
use super::vapid;
use crate::Services;
use crate::accounts::orgs::administered_org;
use crate::auth::session::Authed;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Longest endpoint and device label accepted.
const MAX_ENDPOINT: usize = 2048;
const MAX_LABEL: usize = 100;

/// The browser subscription's keys (base64url).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    /// The device's P-256 public key.
    pub p256dh: String,
    /// The 16-byte authentication secret.
    pub auth: String,
}

/// Exactly what `PushSubscription.toJSON()` gives, and an optional label.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSubscription {
    pub endpoint: String,
    #[serde(rename = "expirationTime", default)]
    pub expiration_time: Option<f64>,
    pub keys: SubscriptionKeys,
    #[serde(default)]
    pub device_label: Option<String>,
}

/// A registered subscription's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionId {
    pub id: Uuid,
}

/// One of my subscriptions (the endpoint itself is not shown, only its push service).
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub device_label: Option<String>,
    /// The push service's host.
    pub push_service: String,
    pub created_at: Timestamp,
    pub last_pushed_at: Option<Timestamp>,
    pub failing_since: Option<Timestamp>,
}

/// The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushConfig {
    /// Base64url of the uncompressed P-256 public key (65 bytes).
    pub vapid_public_key: String,
}

/// One user's devices, for an organization administrator.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDevices {
    pub user_id: Uuid,
    pub display_name: String,
    pub devices: i64,
    pub failing: i64,
    pub last_pushed_at: Option<Timestamp>,
}

fn not_allowed() -> ServiceError {
    ServiceError::invalid(
        "push_endpoint_not_allowed",
        "the endpoint is not on a push service this server sends to",
    )
}

/// The public VAPID key (made on first use).
pub async fn config(svc: &Services) -> ServiceResult<PushConfig> {
    let key = vapid::load_or_create(&svc.store, &svc.media.blobs).await?;
    Ok(PushConfig {
        vapid_public_key: key.public_key,
    })
}

/// Registers the caller's subscription for this session; `true` when it is new. An endpoint
/// already registered keeps its id and moves to the caller and this session.
pub async fn register(
    svc: &Services,
    caller: &Authed,
    req: NewSubscription,
) -> ServiceResult<(Uuid, bool)> {
    if req.endpoint.len() > MAX_ENDPOINT {
        return Err(not_allowed());
    }
    if endpoint_allow::check(&req.endpoint, &svc.settings.push_endpoint_allow).is_err() {
        return Err(not_allowed());
    }
    if parse_keys(&req.keys.p256dh, &req.keys.auth).is_none() {
        return Err(ServiceError::invalid(
            "invalid_push_keys",
            "keys.p256dh must be a P-256 point and keys.auth 16 bytes, both base64url",
        ));
    }
    let label = req
        .device_label
        .map(|l| l.trim().chars().take(MAX_LABEL).collect::<String>())
        .filter(|l| !l.is_empty());
    let new = NewPushSubscription {
        user_id: caller.user.id,
        session_id: Some(caller.session.id),
        endpoint: req.endpoint,
        p256dh: req.keys.p256dh,
        auth: req.keys.auth,
        device_label: label,
        expiration_time: req.expiration_time.map(|t| t as i64),
    };
    let event = AuditEvent::new(
        "push.subscribe",
        Some(caller.user.org_id),
        Some(caller.user.id),
        "push_subscription",
        None,
    );
    svc.store
        .register_push_subscription(&new, &event)
        .await
        .or_service("push_subscription_not_found")
}

/// The caller's own subscriptions.
pub async fn list(svc: &Services, caller: &Authed) -> ServiceResult<Vec<SubscriptionView>> {
    let subs = svc
        .store
        .push_subscriptions_of(caller.user.id)
        .await
        .or_service("push_subscription_not_found")?;
    Ok(subs
        .into_iter()
        .map(|s| SubscriptionView {
            id: s.id,
            device_label: s.device_label,
            push_service: reqwest::Url::parse(&s.endpoint)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            created_at: s.created_at,
            last_pushed_at: s.last_pushed_at,
            failing_since: s.failing_since,
        })
        .collect())
}

/// Removes one of the caller's subscriptions (someone else's is not found).
pub async fn remove(svc: &Services, caller: &Authed, id: Uuid) -> ServiceResult<()> {
    let event = AuditEvent::new(
        "push.unsubscribe",
        Some(caller.user.org_id),
        Some(caller.user.id),
        "push_subscription",
        Some(id),
    );
    svc.store
        .delete_push_subscription(caller.user.id, id, &event)
        .await
        .or_service("push_subscription_not_found")
}

/// Per user of organization `org` (its administrators only): devices, failing ones, last push.
pub async fn org_devices(
    svc: &Services,
    caller: &Authed,
    org: Uuid,
) -> ServiceResult<Vec<UserDevices>> {
    administered_org(svc, &caller.user, org).await?;
    let rows = svc
        .store
        .org_push_devices(org)
        .await
        .or_service("org_not_found")?;
    Ok(rows
        .into_iter()
        .map(|d| UserDevices {
            user_id: d.user_id,
            display_name: d.display_name,
            devices: d.devices,
            failing: d.failing,
            last_pushed_at: d.last_pushed_at,
        })
        .collect())
}
