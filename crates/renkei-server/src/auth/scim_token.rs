//! SCIM callers: a request on an organization's tenant URL (`/scim/v2/{org}/…`) carrying
//! that organization's SCIM token as a bearer token (never a cookie).

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use renkei_service::scim::{ScimCaller, refused};

use crate::AppState;
use crate::auth::session::bearer_or_cookie;
use crate::error::ScimError;

/// The identity provider behind the request's token, on its own organization's URL.
pub struct Scim(pub ScimCaller);

impl FromRequestParts<AppState> for Scim {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ScimError(refused()))?;
        let org = params
            .iter()
            .find(|(name, _)| *name == "org")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| ScimError(refused()))?;
        let token = bearer_or_cookie(&parts.headers)
            .filter(|(_, via_cookie)| !via_cookie)
            .map(|(token, _)| token)
            .ok_or_else(|| ScimError(refused()))?;
        Ok(Scim(ScimCaller::from_token(state, &org, &token).await?))
    }
}
