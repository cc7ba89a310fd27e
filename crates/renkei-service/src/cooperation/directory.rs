//! The staff directory: one search over colleagues of the caller's hospital and of partner
//! hospitals with the directory scope in force, or over one conversation's members.

use renkei_core::Uuid;
use renkei_core::agreement::Scope;
use renkei_core::directory::{MAX_QUERY_CHARS, MatchRank, normalize};
use renkei_core::user::{Profession, User, UserStatus};
use renkei_store::{DirectoryHit, DirectoryScope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Results a page holds when the query names none, and at most.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// A directory search as asked.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// Any part of a name (kanji, kana, romaji), e-mail, phone, department, profession or
    /// hospital; width, case and hiragana/katakana do not matter. Empty lists everyone.
    #[serde(default)]
    pub q: String,
    /// Search this conversation's members instead (you must be one).
    pub conversation_id: Option<Uuid>,
    /// Results to return, 1–100 (default 20).
    pub limit: Option<i64>,
    /// Results to skip (default 0); the previous page's `next_offset`.
    pub offset: Option<i64>,
}

/// A colleague found.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryEntry {
    pub id: Uuid,
    pub display_name: String,
    pub kana: String,
    pub romaji: String,
    pub profession: Profession,
    pub status: UserStatus,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub department_id: Option<Uuid>,
    pub department_name: Option<String>,
    pub org_id: Uuid,
    pub org_name: String,
    /// How the query matched: exact, prefix or partial.
    pub rank: MatchRank,
}

impl From<DirectoryHit> for DirectoryEntry {
    fn from(h: DirectoryHit) -> Self {
        DirectoryEntry {
            id: h.user_id,
            display_name: h.display_name,
            kana: h.kana,
            romaji: h.romaji,
            profession: h.profession,
            status: h.status,
            email: h.email,
            phone: h.phone,
            department_id: h.department_id,
            department_name: h.department_name,
            org_id: h.org_id,
            org_name: h.org_name,
            rank: h.rank,
        }
    }
}

/// A page of the directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryResults {
    pub items: Vec<DirectoryEntry>,
    /// Matches in all, counted up to 1,000.
    pub total: i64,
    /// The total is a lower bound: there are at least 1,000 matches.
    pub total_capped: bool,
    pub offset: i64,
    pub limit: i64,
    pub has_more: bool,
    /// The offset of the next page, when there is one.
    pub next_offset: Option<i64>,
}

/// The organizations whose staff `me` may find: their own and every partner with the
/// directory scope in force.
pub async fn visible_orgs(services: &Services, me: &User) -> ServiceResult<Vec<Uuid>> {
    let mut orgs = vec![me.org_id];
    orgs.extend(
        services
            .store
            .partners(me.org_id, Scope::Directory)
            .await
            .or_service("organization_not_found")?,
    );
    Ok(orgs)
}

/// Colleagues matching `query`, ranked exact > prefix > partial, then by reading; paged.
/// A conversation's members are searched only by one of them (not found otherwise).
pub async fn search(
    services: &Services,
    me: &User,
    query: &DirectoryQuery,
) -> ServiceResult<DirectoryResults> {
    if query.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ServiceError::invalid(
            "query_too_long",
            format!("a search is at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let q = normalize(&query.q);
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = query.offset.unwrap_or(0).max(0);
    let orgs;
    let scope = match query.conversation_id {
        Some(id) => {
            crate::conversations::membership(services, me, id).await?;
            DirectoryScope::Conversation(id)
        }
        None => {
            orgs = visible_orgs(services, me).await?;
            DirectoryScope::Orgs(&orgs)
        }
    };
    let page = services
        .store
        .search_directory(&q, scope, limit, offset)
        .await
        .or_service("conversation_not_found")?;
    let has_more = offset + (page.hits.len() as i64) < page.total;
    Ok(DirectoryResults {
        items: page.hits.into_iter().map(DirectoryEntry::from).collect(),
        total: page.total,
        total_capped: page.total_capped,
        offset,
        limit,
        has_more,
        next_offset: has_more.then_some(offset + limit),
    })
}
