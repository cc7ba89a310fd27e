//! Gateway callers: a request carrying a gateway token (never a cookie), and DICOM uploaders
//! (a gateway or a signed-in member).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use renkei_service::dicom::IngestSource;
use renkei_service::gateway::{GatewayCaller, TOKEN_PREFIX, Uploader, refused};

use crate::AppState;
use crate::auth::session::{Member, bearer_or_cookie};
use crate::error::ApiError;

/// The gateway token of a request, when it carries one.
fn gateway_token(parts: &Parts) -> Option<String> {
    bearer_or_cookie(&parts.headers)
        .filter(|(token, via_cookie)| !via_cookie && token.starts_with(TOKEN_PREFIX))
        .map(|(token, _)| token)
}

/// The gateway behind the request's token.
pub struct GatewayAuth(pub GatewayCaller);

impl FromRequestParts<AppState> for GatewayAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = gateway_token(parts).ok_or_else(|| ApiError::from(refused()))?;
        Ok(GatewayAuth(GatewayCaller::from_token(state, &token).await?))
    }
}

/// Who uploads DICOM: a signed-in member or a gateway of the organization.
pub struct Upload(pub Uploader);

impl FromRequestParts<AppState> for Upload {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match gateway_token(parts) {
            Some(token) => Ok(Upload(Uploader {
                org: GatewayCaller::from_token(state, &token).await?.org,
                source: IngestSource::Gateway,
            })),
            None => {
                let Member(me) = Member::from_request_parts(parts, state).await?;
                Ok(Upload(Uploader {
                    org: me.org,
                    source: IngestSource::Identified,
                }))
            }
        }
    }
}
