//! Users in bulk: CSV import (a dry run lists every row's errors; a real run applies all
//! rows or none) and CSV export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::admin::user_csv::{self, Created, RowError, RowPlan};
use crate::auth::session::Member;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, IdPath};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check the file and say what would happen, changing nothing.
    #[serde(default)]
    dry_run: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    dry_run: bool,
    /// How the file was read: `utf-8`, `utf-8-bom` or `shift_jis`.
    encoding: &'static str,
    rows: Vec<RowPlan>,
    /// Users created, with the one-time password each signs in with (shown once).
    created: Vec<Created>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportRefusal {
    /// `invalid_csv`.
    code: &'static str,
    message: String,
    /// Every problem, by row (0 = the file, 1 = the header) and column.
    errors: Vec<RowError>,
}

/// Import users from CSV (UTF-8, UTF-8 with BOM or Shift_JIS). Columns: login,
/// display_name, profession (required), staff_number, kana, romaji, department (name),
/// email, phone, roles (`;`-separated), status, second_factor_required. Rows update the user
/// with the same staff number or login, else create one with a one-time password.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/users/import", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ImportQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResult),
        (status = 422, body = ImportRefusal, description = "invalid_csv: nothing was imported"),
        (status = 409, body = ErrorBody, description = "version_conflict: a user changed meanwhile; nothing was imported")))]
pub async fn import_users(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the file is larger than this server accepts (max_body_bytes)",
            )
        } else {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })?;
    let imported = match user_csv::import(&state, &me.user, id, &body, q.dry_run).await? {
        Ok(imported) => imported,
        Err(errors) => {
            let refusal = ImportRefusal {
                code: "invalid_csv",
                message: format!("{} problem(s) found; nothing was imported", errors.len()),
                errors,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(refusal)).into_response());
        }
    };
    Ok(Json(ImportResult {
        dry_run: q.dry_run,
        encoding: imported.encoding,
        rows: imported.rows,
        created: imported.created,
    })
    .into_response())
}

/// Every user of the organization as CSV (UTF-8 with BOM; importable as is).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/users/export", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_users(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let (org, body) = user_csv::export_as(&state, &me.user, id).await?;
    Ok(crate::csv_download::download(
        &format!("{}-users.csv", org.slug),
        body,
    ))
}
