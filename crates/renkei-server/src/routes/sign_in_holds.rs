//! Sign-in holds: the users an administrator sees slowed down (wrong passwords) or locked
//! (wrong passcodes or codes), and the release that lifts both, audited.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::accounts::user_admin;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::IdPath;

/// A user whose sign-in is slowed down or locked.
#[derive(Serialize, ToSchema)]
pub struct SignInHold {
    user_id: Uuid,
    login: String,
    display_name: String,
    /// Wrong passwords counted in the last day (the count restarts after a right one).
    failures: i64,
    /// Back-off after wrong passwords: no password is checked before then.
    wait_until: Option<Timestamp>,
    /// Locked after wrong passcodes or second-factor codes until then.
    locked_until: Option<Timestamp>,
}

/// Users of the organization with wrong passwords counted, a back-off or a lock (its
/// administrators). Their sessions are never ended by it.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/sign-in-holds", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = [SignInHold])))]
pub async fn list_holds(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<SignInHold>>> {
    let holds = user_admin::sign_in_holds(&state, &me.user, id).await?;
    Ok(Json(
        holds
            .into_iter()
            .map(|h| SignInHold {
                user_id: h.user_id,
                login: h.login,
                display_name: h.display_name,
                failures: h.failures,
                wait_until: h.wait_until,
                locked_until: h.locked_until,
            })
            .collect(),
    ))
}

/// Release a user's sign-in: forget wrong passwords, passcodes and codes, lift the back-off
/// and the lock (audited as `user.sign_in_released`).
#[utoipa::path(post, path = "/api/v1/users/{id}/sign-in-release", tag = "users", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "a server administrator, released by anyone else"),
        (status = 404, body = ErrorBody)))]
pub async fn release(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    user_admin::release_sign_in(&state, &me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
