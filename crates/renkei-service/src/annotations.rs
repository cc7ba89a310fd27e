//! Annotations on a frame of a study: written as a Grayscale Softcopy Presentation State
//! (`renkei_dicom::gsps`) and stored in the study through the ingest path (encrypted, indexed,
//! served by DICOMweb, expiring with the study); read back for the viewer.

use dicom_core::Tag;
use dicom_object::InMemDicomObject;
use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_dicom::gsps::{self, GSPS_SOP_CLASS, GspsError, Identity, ImageRef, Shape};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::Services;
use crate::auth::session::Authed;
use crate::dicom::IngestSource;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// What a user drew on one frame of an image.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnnotations {
    /// The annotated image's SOP Instance UID (in this study).
    pub sop_uid: String,
    /// From 1; omitted (or 1) for a single-frame image.
    pub frame: Option<u32>,
    pub shapes: Vec<Shape>,
}

/// The annotations of one frame, from one presentation state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FrameAnnotations {
    /// The presentation state's SOP Instance UID.
    pub presentation_uid: String,
    pub sop_uid: String,
    /// From 1; null for a single-frame image.
    pub frame: Option<u32>,
    pub shapes: Vec<Shape>,
}

/// A referenced image: SOP Instance UID and frame (none for a single-frame image).
type FrameRef = (String, Option<u32>);

/// Content Label (0070,0080) of renkei's presentation states.
const LABEL: &str = "ANNOTATIONS";

fn refused(e: GspsError) -> ServiceError {
    let kind = match e {
        GspsError::Unwritable => Kind::Internal,
        _ => Kind::Invalid,
    };
    ServiceError::new(kind, e.code(), e.to_string())
}

fn number(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    obj.get(tag)?
        .value()
        .to_multi_float64()
        .ok()?
        .first()
        .copied()
}

/// The frame of `image` that annotations are drawn on, as the stored instance describes it.
fn image_ref(
    image: &InMemDicomObject,
    sop_uid: &str,
    frame: Option<u32>,
) -> ServiceResult<ImageRef> {
    let text = |tag| {
        image
            .get(tag)
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_matches([' ', '\0']).to_owned())
    };
    let not_an_image = || {
        ServiceError::new(
            Kind::Invalid,
            "annotation_not_an_image",
            "only an image can be annotated",
        )
    };
    let rows = number(image, Tag(0x0028, 0x0010)).ok_or_else(not_an_image)? as u32;
    let columns = number(image, Tag(0x0028, 0x0011)).ok_or_else(not_an_image)? as u32;
    let frames = number(image, Tag(0x0028, 0x0008)).map_or(1, |n| n as u32);
    let frame = match (frames, frame) {
        (1, None | Some(1)) => None,
        (n, Some(f)) if n > 1 && (1..=n).contains(&f) => Some(f),
        _ => {
            return Err(ServiceError::new(
                Kind::Invalid,
                "dicom_frame_out_of_range",
                "no such frame",
            ));
        }
    };
    let spacing = image
        .get(Tag(0x0028, 0x0030))
        .and_then(|e| e.value().to_multi_float64().ok())
        .filter(|v| v.len() == 2)
        .map(|v| [v[0], v[1]]);
    Ok(ImageRef {
        sop_class: text(Tag(0x0008, 0x0016)).unwrap_or_default(),
        sop_uid: sop_uid.to_owned(),
        frame,
        rows,
        columns,
        spacing,
        inverted: text(Tag(0x0028, 0x0004)).as_deref() == Some("MONOCHROME1"),
    })
}

/// Stores what `me` drew on a frame of study `id` as a new presentation state in the study,
/// audited as `study.annotate`; answers the annotations as stored.
pub async fn save(
    state: &Services,
    me: &Authed,
    id: Uuid,
    new: NewAnnotations,
) -> ServiceResult<FrameAnnotations> {
    let study = state
        .dicom
        .visible_study(id, me.user.id, me.user.org_id)
        .await?;
    let source = state.dicom.parsed_instance(id, &new.sop_uid).await?;
    let image = image_ref(&source, &new.sop_uid, new.frame)?;
    let items = gsps::plan(&image, &new.shapes).map_err(refused)?;
    let created = Timestamp::now().to_rfc3339();
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let identity = Identity {
        sop_uid: gsps::new_uid(),
        series_uid: gsps::new_uid(),
        label: LABEL.into(),
        // RFC 3339 in UTC: YYYY-MM-DDTHH:MM:SS…
        created: (digits(&created[..10]), digits(&created[11..19])),
    };
    let bytes = gsps::write(&source, &image, &items, &identity).map_err(refused)?;
    let owner = state
        .store
        .org(study.org_id)
        .await
        .or_service("study_not_found")?;
    let stored = state
        .dicom
        .ingest(&owner, bytes, IngestSource::Presentation)
        .await
        .map_err(|f| f.error())?;
    let event = AuditEvent::new(
        "study.annotate",
        Some(me.user.org_id),
        Some(me.user.id),
        "study",
        Some(id),
    )
    .with_details(json!({"presentation_uid": stored.sop_uid, "shapes": new.shapes.len()}));
    state
        .store
        .append_audit(&event)
        .await
        .or_service("study_not_found")?;
    Ok(FrameAnnotations {
        presentation_uid: stored.sop_uid,
        sop_uid: new.sop_uid,
        frame: image.frame,
        shapes: gsps::shapes_of(&items),
    })
}

/// Every annotation stored in study `id` (renkei's and other viewers' presentation states),
/// oldest first.
pub async fn list(state: &Services, me: &Authed, id: Uuid) -> ServiceResult<Vec<FrameAnnotations>> {
    state
        .dicom
        .visible_study(id, me.user.id, me.user.org_id)
        .await?;
    let instances = state
        .store
        .instances_of(id, None)
        .await
        .or_service("study_not_found")?;
    let mut out = Vec::new();
    for instance in instances.iter().filter(|i| i.sop_class == GSPS_SOP_CLASS) {
        let obj = state.dicom.parsed_instance(id, &instance.sop_uid).await?;
        // One entry per referenced frame of the presentation state, its layers together.
        let mut frames: Vec<(FrameRef, Vec<gsps::Annotation>)> = Vec::new();
        for (sop_uid, frame, annotation) in gsps::read(&obj) {
            let key = (sop_uid, frame);
            match frames.iter_mut().find(|(k, _)| *k == key) {
                Some((_, items)) => items.push(annotation),
                None => frames.push((key, vec![annotation])),
            }
        }
        for ((sop_uid, frame), items) in frames {
            out.push(FrameAnnotations {
                presentation_uid: instance.sop_uid.clone(),
                sop_uid,
                frame,
                shapes: gsps::shapes_of(&items),
            });
        }
    }
    Ok(out)
}
