//! Burned-in text: the detector used at ingest and on photos, and releasing a held study.
//!
//! An instance with text found in its pixels, or with Burned In Annotation YES, is held at
//! ingest (`dicom::index_entry`); its study cannot be shared until a user of the owning
//! organization redacts it or confirms it clean here (audited with their name).

use std::sync::{Arc, OnceLock};

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::dicom::TextRegion;
use renkei_dicom::text::{Region, TextDetector};
use renkei_store::StoreError;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::Services;
use crate::auth::session::Authed;
use crate::error::{Kind, ServiceError, ServiceResult};

/// The process's text detector: Tesseract (`jpn+eng`), loaded once (see
/// [`renkei_dicom::text::system_detector`]).
pub fn detector() -> Arc<dyn TextDetector> {
    static DETECTOR: OnceLock<Arc<dyn TextDetector>> = OnceLock::new();
    DETECTOR
        .get_or_init(renkei_dicom::text::system_detector)
        .clone()
}

/// A detected region as the API shows it.
pub fn region(r: Region) -> TextRegion {
    TextRegion {
        frame: r.frame,
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    }
}

/// The answer to confirming a study clean.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmedClean {
    /// Instances that were held and are released.
    pub released: u64,
}

/// Confirms that the study `id` shows no patient information in its images: its held
/// instances are released, audited with the caller's name. Only a user of the organization
/// that owns the study may (anyone else: 404, as for a study they cannot see).
pub async fn confirm_clean(
    state: &Services,
    me: &Authed,
    id: Uuid,
) -> ServiceResult<ConfirmedClean> {
    let study = state
        .dicom
        .visible_study(id, me.user.id, me.user.org_id)
        .await?;
    if study.org_id != me.user.org_id {
        return Err(ServiceError::new(
            Kind::Forbidden,
            "study_not_owned",
            "only a user of the hospital that owns this study can confirm it is clean",
        ));
    }
    let audit = AuditEvent::new(
        "study.confirmed_clean",
        Some(study.org_id),
        Some(me.user.id),
        "study",
        Some(id),
    )
    .with_details(json!({
        "confirmed_by": me.user.display_name,
        "held_instances": study.held_instances,
    }));
    let released = state
        .store
        .confirm_study_clean(id, me.user.org_id, &audit)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ServiceError::not_found("study_not_found"),
            other => ServiceError::internal(&other),
        })?;
    Ok(ConfirmedClean { released })
}
