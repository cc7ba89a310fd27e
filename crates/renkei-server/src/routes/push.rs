//! Web Push: the server's VAPID key, my subscriptions, my notification settings, and an
//! organization's device overview for its administrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use renkei_service::push::preferences::{self, MyNotifications};
use renkei_service::push::subscriptions::{
    self, NewSubscription, PushConfig, SubscriptionId, SubscriptionView, UserDevices,
};

use crate::AppState;
use crate::auth::session::Member as Signed;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, IdPath};

/// The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`.
#[utoipa::path(get, path = "/api/v1/push/config", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = PushConfig)))]
pub async fn push_config(
    State(state): State<AppState>,
    Signed(_me): Signed,
) -> ApiResult<Json<PushConfig>> {
    Ok(Json(subscriptions::config(&state).await?))
}

/// Register this browser's push subscription (exactly `PushSubscription.toJSON()`, plus an
/// optional `device_label`) for this session; signing out removes it.
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "notifications", request_body = NewSubscription, security(("bearer" = [])),
    responses((status = 201, body = SubscriptionId), (status = 200, body = SubscriptionId, description = "the endpoint was registered already: same id"),
        (status = 422, body = ErrorBody, description = "push_endpoint_not_allowed, invalid_push_keys")))]
pub async fn push_subscribe(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiJson(req): ApiJson<NewSubscription>,
) -> ApiResult<(StatusCode, Json<SubscriptionId>)> {
    let (id, new) = subscriptions::register(&state, &me, req).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(SubscriptionId { id })))
}

/// My push subscriptions (no endpoint URLs: their push service's host).
#[utoipa::path(get, path = "/api/v1/push/subscriptions", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = [SubscriptionView])))]
pub async fn list_push_subscriptions(
    State(state): State<AppState>,
    Signed(me): Signed,
) -> ApiResult<Json<Vec<SubscriptionView>>> {
    Ok(Json(subscriptions::list(&state, &me).await?))
}

/// Remove one of my push subscriptions.
#[utoipa::path(delete, path = "/api/v1/push/subscriptions/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody, description = "push_subscription_not_found (also someone else's)")))]
pub async fn delete_push_subscription(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    subscriptions::remove(&state, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// My notification settings: do-not-disturb hours and my covering colleague.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = MyNotifications)))]
pub async fn get_my_notifications(
    State(state): State<AppState>,
    Signed(me): Signed,
) -> ApiResult<Json<MyNotifications>> {
    Ok(Json(preferences::get(&state, &me).await?))
}

/// Replace my notification settings (urgent messages pass do-not-disturb).
#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "notifications", request_body = MyNotifications, security(("bearer" = [])),
    responses((status = 200, body = MyNotifications),
        (status = 422, body = ErrorBody, description = "invalid_dnd_hours, invalid_utc_offset, invalid_covering_user")))]
pub async fn set_my_notifications(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiJson(req): ApiJson<MyNotifications>,
) -> ApiResult<Json<MyNotifications>> {
    Ok(Json(preferences::set(&state, &me, req).await?))
}

/// Per user of the organization: registered devices, failing ones and the last push
/// (organization administrators; no endpoint URLs).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/push-devices", tag = "notifications", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = [UserDevices]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn org_push_devices(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<UserDevices>>> {
    Ok(Json(subscriptions::org_devices(&state, &me, id).await?))
}
