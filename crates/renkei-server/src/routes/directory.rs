//! The staff directory: one search box over colleagues of my hospital and of partner
//! hospitals with the directory scope, or over one conversation's members.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::directory::{MAX_QUERY_CHARS, MatchRank, normalize};
use renkei_core::user::{Profession, UserStatus};
use renkei_store::{DirectoryHit, DirectoryScope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::conversations::membership;
use crate::AppState;
use crate::auth::session::Member;
use crate::cooperation::directory_orgs;
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::ApiQuery;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// Any part of a name (kanji, kana, romaji), e-mail, phone, department, profession or
    /// hospital; width, case and hiragana/katakana do not matter. Empty lists everyone.
    #[serde(default)]
    q: String,
    /// Search this conversation's members instead (you must be one).
    conversation_id: Option<Uuid>,
    /// Results to return, 1–100 (default 20).
    limit: Option<i64>,
    /// Results to skip (default 0); the previous page's `next_offset`.
    offset: Option<i64>,
}

/// A colleague found.
#[derive(Serialize, ToSchema)]
pub struct DirectoryEntry {
    id: Uuid,
    display_name: String,
    kana: String,
    romaji: String,
    profession: Profession,
    status: UserStatus,
    email: Option<String>,
    phone: Option<String>,
    department_id: Option<Uuid>,
    department_name: Option<String>,
    org_id: Uuid,
    org_name: String,
    /// How the query matched: exact, prefix or partial.
    rank: MatchRank,
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
#[derive(Serialize, ToSchema)]
pub struct DirectoryResults {
    items: Vec<DirectoryEntry>,
    /// Matches in all, counted up to 1,000.
    total: i64,
    /// The total is a lower bound: there are at least 1,000 matches.
    total_capped: bool,
    offset: i64,
    limit: i64,
    has_more: bool,
    /// The offset of the next page, when there is one.
    next_offset: Option<i64>,
}

/// Search colleagues: ranked exact > prefix > partial, then by reading; paged.
#[utoipa::path(get, path = "/api/v1/directory", tag = "directory", security(("bearer" = [])),
    params(DirectoryQuery),
    responses((status = 200, body = DirectoryResults),
        (status = 404, body = ErrorBody, description = "conversation_not_found"),
        (status = 422, body = ErrorBody, description = "query_too_long")))]
pub async fn search(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(query): ApiQuery<DirectoryQuery>,
) -> ApiResult<Json<DirectoryResults>> {
    if query.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "query_too_long",
            format!("a search is at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let q = normalize(&query.q);
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let offset = query.offset.unwrap_or(0).max(0);
    let orgs;
    let scope = match query.conversation_id {
        Some(id) => {
            membership(&state, &me.user, id).await?;
            DirectoryScope::Conversation(id)
        }
        None => {
            orgs = directory_orgs(&state, &me.user).await?;
            DirectoryScope::Orgs(&orgs)
        }
    };
    let page = state
        .store
        .search_directory(&q, scope, limit, offset)
        .await
        .or_api("conversation_not_found")?;
    let has_more = offset + (page.hits.len() as i64) < page.total;
    Ok(Json(DirectoryResults {
        items: page.hits.into_iter().map(DirectoryEntry::from).collect(),
        total: page.total,
        total_capped: page.total_capped,
        offset,
        limit,
        has_more,
        next_offset: has_more.then_some(offset + limit),
    }))
}
