//! The audit log: filtered pages for administrators, the CSV export, and chain verification.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use renkei_core::audit::AuditRecord;

use crate::AppState;
use crate::admin::audit::{self, AuditQuery, AuditVerification};
use crate::auth::session::Member;
use crate::error::ApiResult;
use crate::extract::ApiQuery;

/// Audit entries as CSV (UTF-8 with BOM), newest first, with the same filters as the list;
/// at most 100,000 entries. The export itself is audited.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_audit(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let file = audit::export(&state, &me.user, &q).await?;
    Ok(crate::csv_download::download(&file.file_name, file.body))
}

/// Audit entries, newest first (organization administrators: their organization's).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = [AuditRecord])))]
pub async fn list_audit(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    Ok(Json(audit::list(&state, &me.user, &q).await?))
}

/// Verify the whole hash chain (administrators).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerification)))]
pub async fn verify_audit(
    State(state): State<AppState>,
    Member(me): Member,
) -> ApiResult<Json<AuditVerification>> {
    Ok(Json(audit::verify(&state, &me.user).await?))
}
