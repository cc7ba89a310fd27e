//! The audit log: filtered pages for administrators, and chain verification.

use axum::Json;
use axum::extract::State;
use renkei_core::Uuid;
use renkei_core::access::{can_administer, is_server_admin};
use renkei_core::audit::AuditRecord;
use renkei_core::clock::Timestamp;
use renkei_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult, OrApi};
use crate::extract::ApiQuery;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Organization (default: your own; any for server administrators).
    org_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    target_id: Option<Uuid>,
    /// e.g. `auth.login_failed`, `user.update`.
    action: Option<String>,
    /// RFC 3339; entries at or after.
    since: Option<String>,
    /// RFC 3339; entries before.
    until: Option<String>,
    /// Paging: entries with a lower sequence number (from the last page's last entry).
    before_seq: Option<i64>,
    /// 1–1000 (default 100).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditVerification {
    /// True when every entry links to the one before and matches its hash.
    intact: bool,
    /// Entries checked (when intact).
    entries: Option<i64>,
    /// The first entry that does not follow (when broken).
    broken_at: Option<i64>,
    reason: Option<String>,
}

fn parse_time(field: &str, text: Option<&str>) -> ApiResult<Option<Timestamp>> {
    text.map(|t| {
        Timestamp::parse_rfc3339(t).ok_or_else(|| {
            ApiError::bad_request("invalid_query", format!("{field} must be an RFC 3339 time"))
        })
    })
    .transpose()
}

/// Audit entries, newest first (organization administrators: their organization's).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = [AuditRecord])))]
pub async fn list_audit(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    let org_id = match q.org_id {
        None if is_server_admin(&me.user) => None,
        None => Some(me.user.org_id),
        Some(id) => Some(id),
    };
    if org_id.is_some_and(|id| !can_administer(&me.user, id))
        || (org_id.is_none() && !is_server_admin(&me.user))
    {
        return Err(ApiError::forbidden(
            "only administrators read the audit log",
        ));
    }
    let filter = AuditFilter {
        org_id,
        actor_id: q.actor_id,
        target_id: q.target_id,
        action: q.action,
        since: parse_time("since", q.since.as_deref())?,
        until: parse_time("until", q.until.as_deref())?,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .store
            .audit_page(&filter, q.before_seq, limit)
            .await
            .or_api("audit")?,
    ))
}

/// Verify the whole hash chain (administrators).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerification)))]
pub async fn verify_audit(
    State(state): State<AppState>,
    Member(me): Member,
) -> ApiResult<Json<AuditVerification>> {
    if !can_administer(&me.user, me.user.org_id) {
        return Err(ApiError::forbidden(
            "only administrators verify the audit log",
        ));
    }
    let result = state.store.verify_audit().await.or_api("audit")?;
    Ok(Json(match result {
        Ok(n) => AuditVerification {
            intact: true,
            entries: Some(n),
            broken_at: None,
            reason: None,
        },
        Err(b) => AuditVerification {
            intact: false,
            entries: None,
            broken_at: Some(b.seq),
            reason: Some(b.reason),
        },
    }))
}
