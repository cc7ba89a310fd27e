//! The staff directory: one search box over colleagues of my hospital and of partner
//! hospitals with the directory scope, or over one conversation's members.

use axum::Json;
use axum::extract::State;
use renkei_service::cooperation::directory::{self, DirectoryQuery, DirectoryResults};

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;

/// Search colleagues: ranked exact > prefix > partial, then by reading; paged.
#[utoipa::path(get, path = "/api/v1/directory", tag = "directory", security(("bearer" = [])),
    params(DirectoryQuery),
    responses((status = 200, body = DirectoryResults),
        (status = 404, body = ErrorBody, description = "conversation_not_found"),
        (status = 422, body = ErrorBody, description = "query_too_long")))]
pub async fn search_directory(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(query): ApiQuery<DirectoryQuery>,
) -> ApiResult<Json<DirectoryResults>> {
    Ok(Json(directory::search(&state, &me.user, &query).await?))
}
