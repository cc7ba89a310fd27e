//! The audit log for administrators: who reads which entries, filtered pages, the CSV export
//! (itself audited) and verification of the hash chain.

use std::collections::HashMap;

use renkei_core::Uuid;
use renkei_core::access::{can_administer, is_server_admin};
use renkei_core::audit::{AuditEvent, AuditRecord};
use renkei_core::clock::Timestamp;
use renkei_core::user::User;
use renkei_store::{AuditFilter, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_codec;
use super::download::Download;
use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Entries a page holds when the query names no limit, and at most.
const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;
/// Most entries one CSV export holds (newest first); narrow the filter for older ones.
const MAX_EXPORT: usize = 100_000;

/// Which audit entries to read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Organization (default: your own; any for server administrators).
    pub org_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    /// e.g. `auth.login_failed`, `user.update`.
    pub action: Option<String>,
    /// RFC 3339; entries at or after.
    pub since: Option<String>,
    /// RFC 3339; entries before.
    pub until: Option<String>,
    /// Paging: entries with a lower sequence number (from the last page's last entry).
    pub before_seq: Option<i64>,
    /// 1–1000 (default 100).
    pub limit: Option<i64>,
}

/// Whether the hash chain holds, as the caller may learn it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    /// True when every entry links to the one before and matches its hash.
    pub intact: bool,
    /// Entries checked (server administrators: all of them; organization administrators:
    /// their organization's).
    pub entries: Option<i64>,
    /// The first entry that does not follow (when broken; server administrators only).
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
    /// `server` or `organization`: what `entries` counts.
    pub scope: String,
}

fn parse_time(field: &str, text: Option<&str>) -> ServiceResult<Option<Timestamp>> {
    text.map(|t| {
        Timestamp::parse_rfc3339(t).ok_or_else(|| {
            ServiceError::bad_request("invalid_query", format!("{field} must be an RFC 3339 time"))
        })
    })
    .transpose()
}

/// The filter a query asks for, if the caller may read those entries: an organization's
/// administrators read its entries, server administrators every organization's.
fn filter_for(me: &User, q: &AuditQuery) -> ServiceResult<AuditFilter> {
    let org_id = match q.org_id {
        None if is_server_admin(me) => None,
        None => Some(me.org_id),
        Some(id) => Some(id),
    };
    if org_id.is_some_and(|id| !can_administer(me, id))
        || (org_id.is_none() && !is_server_admin(me))
    {
        return Err(ServiceError::forbidden(
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

/// A page of entries, newest first.
pub async fn list(
    services: &Services,
    me: &User,
    q: &AuditQuery,
) -> ServiceResult<Vec<AuditRecord>> {
    let filter = filter_for(me, q)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    services
        .store
        .audit_page(&filter, q.before_seq, limit)
        .await
        .or_service("audit")
}

/// The entries `q` selects as CSV, newest first, at most [`MAX_EXPORT`]; the export itself
/// is audited.
pub async fn export(services: &Services, me: &User, q: &AuditQuery) -> ServiceResult<Download> {
    let filter = filter_for(me, q)?;
    let store = &services.store;
    let mut entries: Vec<AuditRecord> = Vec::new();
    let mut before = q.before_seq;
    loop {
        let page = store
            .audit_page(&filter, before, MAX_PAGE)
            .await
            .or_service("audit")?;
        let done = page.len() < MAX_PAGE as usize;
        before = page.last().map(|e| e.seq);
        entries.extend(page);
        if done || entries.len() >= MAX_EXPORT {
            break;
        }
    }
    entries.truncate(MAX_EXPORT);
    let event = AuditEvent::new(
        "audit.export",
        filter.org_id.or(Some(me.org_id)),
        Some(me.id),
        "audit",
        None,
    )
    .with_details(serde_json::json!({"entries": entries.len()}));
    store.append_audit(&event).await.or_service("audit")?;
    let actors = actor_names(services, &entries).await?;
    Ok(Download {
        file_name: "audit.csv".to_owned(),
        body: audit_csv(&entries, &actors),
    })
}

/// The entries as CSV rows, with each actor's login and name.
fn audit_csv(entries: &[AuditRecord], actors: &HashMap<Uuid, (String, String)>) -> Vec<u8> {
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
    csv_codec::write(
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
    )
}

/// Login and display name of each actor of `entries` (a removed user is left blank).
async fn actor_names(
    services: &Services,
    entries: &[AuditRecord],
) -> ServiceResult<HashMap<Uuid, (String, String)>> {
    let mut names = HashMap::new();
    for actor in entries.iter().filter_map(|e| e.actor_id) {
        if names.contains_key(&actor) {
            continue;
        }
        match services.store.user(actor).await {
            Ok(user) => {
                names.insert(actor, (user.login, user.display_name));
            }
            Err(StoreError::NotFound) => {
                names.insert(actor, Default::default());
            }
            Err(e) => return Err(e).or_service("audit"),
        }
    }
    Ok(names)
}

/// Verifies the whole hash chain (administrators). An organization's administrator learns
/// whether the chain holds and how many entries are their organization's; the server-wide
/// count and where it broke are for server administrators.
pub async fn verify(services: &Services, me: &User) -> ServiceResult<AuditVerification> {
    if !can_administer(me, me.org_id) {
        return Err(ServiceError::forbidden(
            "only administrators verify the audit log",
        ));
    }
    let result = services.store.verify_audit().await.or_service("audit")?;
    let server_wide = is_server_admin(me);
    let own = if server_wide {
        None
    } else {
        Some(
            services
                .store
                .count_audit(me.org_id)
                .await
                .or_service("audit")?,
        )
    };
    let scope = if server_wide {
        "server"
    } else {
        "organization"
    }
    .to_owned();
    Ok(match result {
        Ok(n) => AuditVerification {
            intact: true,
            entries: Some(own.unwrap_or(n)),
            broken_at: None,
            reason: None,
            scope,
        },
        Err(b) => AuditVerification {
            intact: false,
            entries: own,
            broken_at: server_wide.then_some(b.seq),
            reason: server_wide.then_some(b.reason),
            scope,
        },
    })
}
