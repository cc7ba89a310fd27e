//! Manual redaction: a user of the hospital that owns a study blanks regions of one of its
//! images; the server stores the derived instance (same series, indexed, served by DICOMweb)
//! and destroys the original by crypto-shredding its key, audited.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::redaction::Area;
use renkei_dicom::redact::{MAX_RECTANGLES, Rect, RedactError, redact};
use renkei_dicom::uid::derived_uid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Services;
use crate::auth::session::Authed;
use crate::dicom::IngestSource;
use crate::error::{Kind, ServiceError, ServiceResult};

/// What to blank in every frame of an instance.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRedaction {
    /// 1 to 64 rectangles, each inside the image.
    pub rectangles: Vec<Area>,
}

/// The instance that replaced the redacted one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Redacted {
    pub study_id: Uuid,
    pub series_uid: String,
    /// The derived instance's SOP Instance UID (the original no longer exists).
    pub sop_uid: String,
}

/// A redaction refused: the rectangles or the image (422), or a defect (500).
pub fn redact_error(e: RedactError) -> ServiceError {
    if e.is_input() {
        ServiceError::new(Kind::Invalid, e.code(), e.to_string())
    } else {
        ServiceError::internal(&e)
    }
}

/// What the derivation is called in the derived UID: the rectangles, in order.
fn derivation_key(rects: &[Rect]) -> String {
    let parts: Vec<String> = rects
        .iter()
        .map(|r| format!("{},{},{},{}", r.x, r.y, r.width, r.height))
        .collect();
    format!("redaction:{}", parts.join(";"))
}

/// Blanks `input`'s rectangles in every frame of instance `sop_uid` of study `study_id` (the
/// caller's organization's), stores the derived instance in its place and destroys the
/// original. Bad rectangles change nothing (422).
pub async fn redact_instance(
    state: &Services,
    me: &Authed,
    study_id: Uuid,
    sop_uid: &str,
    input: NewRedaction,
) -> ServiceResult<Redacted> {
    let rects = input.rectangles;
    if rects.is_empty() || rects.len() > MAX_RECTANGLES {
        let e = if rects.is_empty() {
            RedactError::NoRectangles
        } else {
            RedactError::TooManyRectangles {
                count: rects.len(),
                limit: MAX_RECTANGLES,
            }
        };
        return Err(redact_error(e));
    }
    let study = state
        .dicom
        .visible_study(study_id, me.user.id, me.user.org_id)
        .await?;
    if study.org_id != me.user.org_id {
        return Err(ServiceError::forbidden(
            "only the hospital that owns the study may redact its images",
        ));
    }
    let ctx = state.dicom.context(&me.org).await.map_err(|f| f.error())?;
    let obj = state.dicom.read_instance(study_id, sop_uid).await?;
    let new_uid = derived_uid(&ctx.org_secret, sop_uid, &derivation_key(&rects));
    let regions = rects.len();
    let bytes = tokio::task::spawn_blocking(move || {
        let derived = redact(&obj, &rects, &new_uid).map_err(redact_error)?;
        let mut bytes = Vec::new();
        derived
            .write_all(&mut bytes)
            .map_err(|e| ServiceError::internal(&e))?;
        Ok::<_, ServiceError>(bytes)
    })
    .await
    .map_err(|e| ServiceError::internal(&e))??;
    let stored = state
        .dicom
        .ingest(&me.org, bytes, IngestSource::Derived)
        .await
        .map_err(|f| f.error())?;
    let audit = AuditEvent::new(
        "dicom_instance.redact",
        Some(study.org_id),
        Some(me.user.id),
        "study",
        Some(study.id),
    )
    .with_details(serde_json::json!({
        "regions": regions,
        "derived_sop_uid": stored.sop_uid,
    }));
    state
        .dicom
        .destroy_instance(study_id, sop_uid, &audit)
        .await?;
    state.dicomweb.forget(study_id, sop_uid);
    Ok(Redacted {
        study_id: stored.study_id,
        series_uid: stored.series_uid,
        sop_uid: stored.sop_uid,
    })
}
