//! DICOM peers as an organization's administrators manage them: list, allow, change the
//! addresses of, and stop accepting a PACS or modality (every change audited).

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::{DicomPeer, NewDicomPeer};
use serde_json::json;

use crate::Services;
use crate::accounts::orgs::{administered_org, require_administers};
use crate::auth::session::Authed;
use crate::error::{OrService, ServiceError, ServiceResult};

/// The peers allowed to send to organization `org`.
pub async fn list(state: &Services, me: &Authed, org: Uuid) -> ServiceResult<Vec<DicomPeer>> {
    let org = administered_org(state, &me.user, org).await?;
    state
        .store
        .dicom_peers(org.id)
        .await
        .or_service("organization_not_found")
}

/// Allows a peer to send to organization `org`.
pub async fn add(
    state: &Services,
    me: &Authed,
    org: Uuid,
    input: &NewDicomPeer,
) -> ServiceResult<DicomPeer> {
    let org = administered_org(state, &me.user, org).await?;
    crate::dicom::add_peer(&state.store, Some(me.user.id), &org, input).await
}

/// Replaces the addresses peer `ae_title` may call from (audited with before and after).
pub async fn update_allow(
    state: &Services,
    me: &Authed,
    org: Uuid,
    ae_title: &str,
    allow: Vec<String>,
) -> ServiceResult<DicomPeer> {
    let org = administered_org(state, &me.user, org).await?;
    let checked = NewDicomPeer {
        ae_title: ae_title.to_owned(),
        allow,
        allow_any_address: false,
    }
    .build(org.id, Timestamp::now())?;
    let before = state
        .store
        .dicom_peers(org.id)
        .await
        .or_service("organization_not_found")?
        .into_iter()
        .find(|p| p.ae_title == checked.ae_title)
        .ok_or_else(|| ServiceError::not_found("dicom_peer_not_found"))?;
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
    state
        .store
        .update_dicom_peer_allow(org.id, &checked.ae_title, &checked.allow, &event)
        .await
        .or_service("dicom_peer_not_found")
}

/// Stops accepting peer `ae_title`.
pub async fn remove(state: &Services, me: &Authed, org: Uuid, ae_title: &str) -> ServiceResult<()> {
    require_administers(&me.user, org)?;
    crate::dicom::remove_peer(&state.store, Some(me.user.id), org, ae_title).await
}
