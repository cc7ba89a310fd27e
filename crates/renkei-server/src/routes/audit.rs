//! The audit log: filtered pages for administrators, and chain verification.

use std::collections::HashMap;

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
use crate::admin::csv_codec;
use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult, OrApi};
use crate::extract::ApiQuery;
use axum::response::Response;
use renkei_core::audit::AuditEvent;
use renkei_core::user::User;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
    /// Entries checked (server administrators: all of them; organization administrators:
    /// their organization's).
    entries: Option<i64>,
    /// The first entry that does not follow (when broken; server administrators only).
    broken_at: Option<i64>,
    reason: Option<String>,
    /// `server` or `organization`: what `entries` counts.
    scope: String,
}

fn parse_time(field: &str, text: Option<&str>) -> ApiResult<Option<Timestamp>> {
    text.map(|t| {
        Timestamp::parse_rfc3339(t).ok_or_else(|| {
            ApiError::bad_request("invalid_query", format!("{field} must be an RFC 3339 time"))
        })
    })
    .transpose()
}

/// The filter a query asks for, if the caller may read those entries.
fn filter_for(me: &User, q: &AuditQuery) -> ApiResult<AuditFilter> {
    let org_id = match q.org_id {
        None if is_server_admin(me) => None,
        None => Some(me.org_id),
        Some(id) => Some(id),
    };
    if org_id.is_some_and(|id| !can_administer(me, id))
        || (org_id.is_none() && !is_server_admin(me))
    {
        return Err(ApiError::forbidden(
            "only administrators read the audit log",
        ));
    }
    Ok(AuditFilter {
        org_id,
        actor_id: q.actor_id,
        target_id: q.target_id,
        action: q.action.clone(),
        since: parse_time("since", q.since.as_deref())?,
        until: parse_time("until", q.until.as_deref())?,
    })
}

/// Most entries one CSV export holds (newest first); narrow the filter for older ones.
const MAX_EXPORT: usize = 100_000;

/// Audit entries as CSV (UTF-8 with BOM), newest first, with the same filters as the list;
/// at most 100,000 entries. The export itself is audited.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_audit(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let filter = filter_for(&me.user, &q)?;
    let mut entries: Vec<AuditRecord> = Vec::new();
    let mut before = q.before_seq;
    loop {
        let page = state
            .store
            .audit_page(&filter, before, 1000)
            .await
            .or_api("audit")?;
        let done = page.len() < 1000;
        before = page.last().map(|e| e.seq);
        entries.extend(page);
        if done || entries.len() >= MAX_EXPORT {
            break;
        }
    }
    entries.truncate(MAX_EXPORT);
    let event = AuditEvent::new(
        "audit.export",
        filter.org_id.or(Some(me.user.org_id)),
        Some(me.user.id),
        "audit",
        None,
    )
    .with_details(serde_json::json!({"entries": entries.len()}));
    state.store.append_audit(&event).await.or_api("audit")?;
    let actors = actor_names(&state, &entries).await?;
    let rows = entries.iter().map(|e| {
        let id = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
        let (login, name) = e
            .actor_id
            .and_then(|a| actors.get(&a).cloned())
            .unwrap_or_default();
        vec![
            e.seq.to_string(),
            e.at.to_rfc3339(),
            id(e.org_id),
            id(e.actor_id),
            login,
            name,
            e.action.clone(),
            e.target_kind.clone(),
            id(e.target_id),
            e.details.clone(),
            e.hash.clone(),
        ]
    });
    let body = csv_codec::write(
        &[
            "seq",
            "at",
            "org_id",
            "actor_id",
            "actor_login",
            "actor_name",
            "action",
            "target_kind",
            "target_id",
            "details",
            "hash",
        ],
        rows,
    );
    Ok(crate::csv_download::download("audit.csv", body))
}

/// Login and display name of each actor of `entries` (a removed user is left out).
async fn actor_names(
    state: &AppState,
    entries: &[AuditRecord],
) -> ApiResult<HashMap<Uuid, (String, String)>> {
    let mut names = HashMap::new();
    for actor in entries.iter().filter_map(|e| e.actor_id) {
        if names.contains_key(&actor) {
            continue;
        }
        match state.store.user(actor).await {
            Ok(user) => {
                names.insert(actor, (user.login, user.display_name));
            }
            Err(renkei_store::StoreError::NotFound) => {
                names.insert(actor, Default::default());
            }
            Err(e) => return Err(e).or_api("audit"),
        }
    }
    Ok(names)
}

/// Audit entries, newest first (organization administrators: their organization's).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = [AuditRecord])))]
pub async fn list_audit(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    let filter = filter_for(&me.user, &q)?;
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
    // An organization's administrator learns whether the chain holds and how many entries
    // are their organization's; the server-wide count and where it broke are for server
    // administrators.
    let server_wide = is_server_admin(&me.user);
    let own = if server_wide {
        None
    } else {
        Some(
            state
                .store
                .count_audit(me.user.org_id)
                .await
                .or_api("audit")?,
        )
    };
    Ok(Json(match result {
        Ok(n) => AuditVerification {
            intact: true,
            entries: Some(own.unwrap_or(n)),
            broken_at: None,
            reason: None,
            scope: scope(server_wide),
        },
        Err(b) => AuditVerification {
            intact: false,
            entries: own,
            broken_at: server_wide.then_some(b.seq),
            reason: server_wide.then_some(b.reason),
            scope: scope(server_wide),
        },
    }))
}

fn scope(server_wide: bool) -> String {
    if server_wide {
        "server"
    } else {
        "organization"
    }
    .to_owned()
}
