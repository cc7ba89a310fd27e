//! Seats and usage statistics of an organization (a council: per member hospital), as JSON
//! and CSV, for its administrators.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use super::orgs::administered_org;
use crate::AppState;
use crate::admin::stats::{self, Seats, UsageReport};
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, IdPath};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// First day, `YYYY-MM-DD` (default: 30 days ago for seats, a year ago for usage). Days
    /// start at the server's `stats_utc_offset_minutes` (+540, Japan, by default).
    from: Option<String>,
    /// Last day, inclusive (default: today).
    to: Option<String>,
}

/// Active users (seats) today and on each day of the range, in total and by profession.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/seats", tag = "statistics", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), Range),
    responses((status = 200, body = Seats), (status = 400, body = ErrorBody, description = "invalid_range")))]
pub async fn seats(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<Range>,
) -> ApiResult<Json<Seats>> {
    let org = administered_org(&state, &me.user, id).await?;
    let days = stats::range(q.from.as_deref(), q.to.as_deref(), 30)?;
    Ok(Json(stats::seats(&state.store, &org, &days).await?))
}

async fn report(
    state: &AppState,
    me: &renkei_core::user::User,
    id: renkei_core::Uuid,
    q: &Range,
) -> ApiResult<(renkei_core::org::Organization, UsageReport)> {
    let org = administered_org(state, me, id).await?;
    let days = stats::range(q.from.as_deref(), q.to.as_deref(), 365)?;
    let members = stats::report_orgs(&state.store, &org).await?;
    let report = stats::usage(&state.store, org.id, members, &days).await?;
    Ok((org, report))
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
    ApiQuery(q): ApiQuery<Range>,
) -> ApiResult<Json<UsageReport>> {
    Ok(Json(report(&state, &me.user, id, &q).await?.1))
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
    ApiQuery(q): ApiQuery<Range>,
) -> ApiResult<Response> {
    let (org, report) = report(&state, &me.user, id, &q).await?;
    Ok(crate::csv_download::download(
        &format!("{}-usage-{}-{}.csv", org.slug, report.from, report.to),
        stats::usage_csv(&report),
    ))
}
