//! Changing a DICOM peer's allowed addresses from the admin console (listing, adding and
//! removing peers are in `studies`).

use axum::Json;
use axum::extract::{Path, State};
use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::{DicomPeer, NewDicomPeer};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::orgs::administered_org;
use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody, OrApi};
use crate::extract::ApiJson;

/// The addresses a peer may call from: at least one address or CIDR range.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerAddresses {
    allow: Vec<String>,
}

/// Replace the addresses a DICOM peer may call from (audited with before and after).
#[utoipa::path(put, path = "/api/v1/orgs/{id}/dicom-peers/{ae_title}", tag = "imaging", request_body = PeerAddresses,
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("ae_title" = String, Path)),
    responses((status = 200, body = DicomPeer), (status = 404, body = ErrorBody, description = "dicom_peer_not_found"),
        (status = 422, body = ErrorBody, description = "allow_required or invalid_address_range")))]
pub async fn update_peer(
    State(state): State<AppState>,
    Member(me): Member,
    Path((id, ae_title)): Path<(Uuid, String)>,
    ApiJson(input): ApiJson<PeerAddresses>,
) -> ApiResult<Json<DicomPeer>> {
    let org = administered_org(&state, &me.user, id).await?;
    let checked = NewDicomPeer {
        ae_title: ae_title.clone(),
        allow: input.allow,
        allow_any_address: false,
    }
    .build(org.id, Timestamp::now())?;
    let before = state
        .store
        .dicom_peers(org.id)
        .await
        .or_api("organization_not_found")?
        .into_iter()
        .find(|p| p.ae_title == checked.ae_title)
        .ok_or_else(|| crate::error::ApiError::not_found("dicom_peer_not_found"))?;
    let event = AuditEvent::new(
        "dicom_peer.update",
        Some(org.id),
        Some(me.user.id),
        "dicom_peer",
        Some(before.id),
    )
    .with_details(json!({
        "ae_title": before.ae_title,
        "changes": {"allow": {"before": before.allow, "after": checked.allow}},
    }));
    let peer = state
        .store
        .update_dicom_peer_allow(org.id, &checked.ae_title, &checked.allow, &event)
        .await
        .or_api("dicom_peer_not_found")?;
    Ok(Json(peer))
}
