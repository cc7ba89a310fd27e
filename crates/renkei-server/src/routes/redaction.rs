//! Redaction: blanking rectangles of a stored image (the original destroyed), and the
//! per-device rules that blank them at ingest.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::redaction::{NewRedactionRule, RedactionRule};
use renkei_service::redaction::{self, NewRedaction, Redacted};
use renkei_service::redaction_rules::{self, RuleFromImage};

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, IdPath, IfMatch, expected_version};

/// Blank rectangles in every frame of an instance (users of the hospital that owns the study):
/// the server stores a derived instance in the same series (new SOP Instance UID, Burned In
/// Annotation NO, the derivation recorded) and destroys the original (its key is shredded),
/// audited. Bad rectangles: 422, nothing changed.
#[utoipa::path(post, path = "/api/v1/studies/{id}/instances/{sop_uid}/redactions", tag = "imaging",
    request_body = NewRedaction, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sop_uid" = String, Path)),
    responses((status = 201, body = Redacted), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "redaction_no_rectangles, redaction_too_many_rectangles, redaction_empty_rectangle, redaction_outside_image, or an image that cannot be decoded")))]
pub async fn redact(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, sop_uid)): ApiPath<(Uuid, String)>,
    ApiJson(input): ApiJson<NewRedaction>,
) -> ApiResult<(StatusCode, Json<Redacted>)> {
    let redacted = redaction::redact_instance(&state, &me, id, &sop_uid, input).await?;
    Ok((StatusCode::CREATED, Json(redacted)))
}

/// Make a redaction rule from an image: its device (Manufacturer, Model, Rows × Columns) gets
/// these rectangles blanked in every image received from now on (the organization's
/// administrators).
#[utoipa::path(post, path = "/api/v1/studies/{id}/instances/{sop_uid}/redaction-rule", tag = "imaging",
    request_body = RuleFromImage, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sop_uid" = String, Path)),
    responses((status = 201, body = RedactionRule), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rule_from_image(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, sop_uid)): ApiPath<(Uuid, String)>,
    ApiJson(input): ApiJson<RuleFromImage>,
) -> ApiResult<(StatusCode, Json<RedactionRule>)> {
    let rule = redaction_rules::create_from_image(&state, &me, (id, &sop_uid), &input).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// An organization's per-device redaction rules (its administrators).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/redaction-rules", tag = "imaging", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = [RedactionRule])))]
pub async fn list_rules(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<RedactionRule>>> {
    Ok(Json(redaction_rules::list(&state, &me, id).await?))
}

/// Add a per-device redaction rule: rectangles blanked in every frame of images from that
/// device, at ingest on the server and on the gateways.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/redaction-rules", tag = "imaging", request_body = NewRedactionRule,
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = RedactionRule), (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<NewRedactionRule>,
) -> ApiResult<(StatusCode, Json<RedactionRule>)> {
    let rule = redaction_rules::create(&state, &me, id, &input).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// Replace a rule (If-Match: the version edited).
#[utoipa::path(put, path = "/api/v1/orgs/{id}/redaction-rules/{rule_id}", tag = "imaging", request_body = NewRedactionRule,
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("rule_id" = uuid::Uuid, Path)),
    responses((status = 200, body = RedactionRule),
        (status = 409, body = ErrorBody, description = "version_conflict, with `current`"),
        (status = 428, body = ErrorBody, description = "version_required")))]
pub async fn update_rule(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, rule_id)): ApiPath<(Uuid, Uuid)>,
    IfMatch(if_match): IfMatch,
    ApiJson(input): ApiJson<NewRedactionRule>,
) -> ApiResult<Json<RedactionRule>> {
    let version = expected_version(if_match, None)?;
    Ok(Json(
        redaction_rules::update(&state, &me, (id, rule_id), &input, version).await?,
    ))
}

/// Remove a rule.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/redaction-rules/{rule_id}", tag = "imaging",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("rule_id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    Member(me): Member,
    ApiPath((id, rule_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    redaction_rules::remove(&state, &me, id, rule_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
