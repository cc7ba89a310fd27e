//! Changing a DICOM peer's allowed addresses from the admin console (listing, adding and
//! removing peers are in `studies`).

use axum::Json;
use axum::extract::State;
use renkei_core::Uuid;
use renkei_core::dicom::DicomPeer;
use renkei_service::dicom_peers;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};

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
    ApiPath((id, ae_title)): ApiPath<(Uuid, String)>,
    ApiJson(input): ApiJson<PeerAddresses>,
) -> ApiResult<Json<DicomPeer>> {
    Ok(Json(
        dicom_peers::update_allow(&state, &me, id, &ae_title, input.allow).await?,
    ))
}
