//! Seats and usage statistics of an organization (a council: per member hospital), as JSON
//! and CSV, for its administrators.

use axum::Json;
use axum::extract::State;
use axum::response::Response;

use crate::AppState;
use crate::admin::stats::{self, Range, Seats, UsageReport};
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, IdPath};

/// Active users (seats) today and on each day of the range, in total and by profession.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/seats", tag = "statistics", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), Range),
    responses((status = 200, body = Seats), (status = 400, body = ErrorBody, description = "invalid_range")))]
pub async fn seats(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<Seats>> {
    Ok(Json(stats::seats_of(&state, &me.user, id, &range).await?))
}

/// Usage per month: active users by profession; messages and conversations per department;
/// DICOM studies and photos; cross-organization conversations and messages. For a council,
/// the same per member hospital opted in now (every row names its `org_id`).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/stats", tag = "statistics", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), Range),
    responses((status = 200, body = UsageReport), (status = 400, body = ErrorBody, description = "invalid_range")))]
pub async fn usage(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Json<UsageReport>> {
    Ok(Json(stats::usage_of(&state, &me.user, id, &range).await?))
}

/// The usage report as CSV (metric, organization, organization_name, month, department,
/// profession, value).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/stats/export", tag = "statistics", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), Range),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn usage_csv(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(range): ApiQuery<Range>,
) -> ApiResult<Response> {
    let file = stats::export_usage(&state, &me.user, id, &range).await?;
    Ok(crate::csv_download::download(&file.file_name, file.body))
}
