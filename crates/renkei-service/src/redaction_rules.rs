//! Per-device redaction rules as an organization's administrators keep them: list, create
//! (also from an image and the rectangles just blanked on it), replace at a version, remove;
//! every change audited and applied to the next instance received.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::redaction::{Area, NewRedactionRule, RedactionRule};
use renkei_dicom::redact::{check_rects, device_of};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::Services;
use crate::accounts::orgs::administered_org;
use crate::auth::session::Authed;
use crate::error::{OrService, ServiceError, ServiceResult};
use crate::redaction::redact_error;

/// A rule's fields checked: text trimmed, rectangles inside its Rows × Columns.
fn checked(input: &NewRedactionRule) -> ServiceResult<NewRedactionRule> {
    let rule = input.normalized()?;
    check_rects(&rule.rectangles, rule.columns, rule.rows).map_err(redact_error)?;
    Ok(rule)
}

fn event(action: &'static str, me: &Authed, rule: &RedactionRule) -> AuditEvent {
    AuditEvent::new(
        action,
        Some(rule.org_id),
        Some(me.user.id),
        "redaction_rule",
        Some(rule.id),
    )
    .with_details(json!({
        "manufacturer": rule.manufacturer,
        "model": rule.model,
        "rows": rule.rows,
        "columns": rule.columns,
        "modality": rule.modality,
        "rectangles": rule.rectangles.len(),
    }))
}

/// Organization `org`'s rules (its administrators).
pub async fn list(state: &Services, me: &Authed, org: Uuid) -> ServiceResult<Vec<RedactionRule>> {
    let org = administered_org(state, &me.user, org).await?;
    state
        .store
        .redaction_rules(org.id)
        .await
        .or_service("organization_not_found")
}

/// Adds a rule to organization `org`.
pub async fn create(
    state: &Services,
    me: &Authed,
    org: Uuid,
    input: &NewRedactionRule,
) -> ServiceResult<RedactionRule> {
    let org = administered_org(state, &me.user, org).await?;
    let fields = checked(input)?;
    let now = Timestamp::now();
    let rule = RedactionRule {
        id: renkei_core::new_id(),
        org_id: org.id,
        manufacturer: fields.manufacturer,
        model: fields.model,
        rows: fields.rows,
        columns: fields.columns,
        modality: fields.modality,
        rectangles: fields.rectangles,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .insert_redaction_rule(&rule, &event("redaction_rule.create", me, &rule))
        .await
        .or_service("organization_not_found")?;
    state.dicom.forget_rules(org.id);
    Ok(rule)
}

/// Replaces rule `id` of organization `org`, if it is still at `version`.
pub async fn update(
    state: &Services,
    me: &Authed,
    (org, id): (Uuid, Uuid),
    input: &NewRedactionRule,
    version: i64,
) -> ServiceResult<RedactionRule> {
    let org = administered_org(state, &me.user, org).await?;
    let fields = checked(input)?;
    let current = state
        .store
        .redaction_rule(org.id, id)
        .await
        .or_service("redaction_rule_not_found")?;
    let next = RedactionRule {
        manufacturer: fields.manufacturer,
        model: fields.model,
        rows: fields.rows,
        columns: fields.columns,
        modality: fields.modality,
        rectangles: fields.rectangles,
        updated_at: Timestamp::now(),
        ..current.clone()
    };
    let saved = state
        .store
        .update_redaction_rule(&next, version, &event("redaction_rule.update", me, &next))
        .await;
    state.dicom.forget_rules(org.id);
    match saved {
        Err(renkei_store::StoreError::Stale) => {
            let now = state.store.redaction_rule(org.id, id).await.ok();
            Err(ServiceError::version_conflict(now.unwrap_or(current)))
        }
        other => other.or_service("redaction_rule_not_found"),
    }
}

/// Removes rule `id` of organization `org`.
pub async fn remove(state: &Services, me: &Authed, org: Uuid, id: Uuid) -> ServiceResult<()> {
    let org = administered_org(state, &me.user, org).await?;
    let rule = state
        .store
        .redaction_rule(org.id, id)
        .await
        .or_service("redaction_rule_not_found")?;
    state
        .store
        .delete_redaction_rule(org.id, id, &event("redaction_rule.delete", me, &rule))
        .await
        .or_service("redaction_rule_not_found")?;
    state.dicom.forget_rules(org.id);
    Ok(())
}

/// The rectangles of a rule to make from an image.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleFromImage {
    pub rectangles: Vec<Area>,
    /// Match the image's modality too (default: any modality).
    #[serde(default)]
    pub same_modality: bool,
}

/// A rule for the device that made instance `sop_uid` of study `study` (its Manufacturer,
/// Model, Rows × Columns), blanking `input`'s rectangles: "always blank these on this device".
pub async fn create_from_image(
    state: &Services,
    me: &Authed,
    (study, sop_uid): (Uuid, &str),
    input: &RuleFromImage,
) -> ServiceResult<RedactionRule> {
    let found = state
        .dicom
        .visible_study(study, me.user.id, me.user.org_id)
        .await?;
    if found.org_id != me.user.org_id {
        return Err(ServiceError::forbidden(
            "only the hospital that owns the study may make rules from its images",
        ));
    }
    let obj = state.dicom.parsed_instance(study, sop_uid).await?;
    let device = device_of(&obj);
    let rule = NewRedactionRule {
        manufacturer: device.manufacturer,
        model: device.model,
        rows: device.rows,
        columns: device.columns,
        modality: input.same_modality.then_some(device.modality),
        rectangles: input.rectangles.clone(),
    };
    create(state, me, found.org_id, &rule).await
}
