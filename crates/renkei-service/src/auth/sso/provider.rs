//! Providers as discovered: each issuer's discovery document and signing keys, fetched over the
//! server's one HTTP client (rustls) and kept for a while; the issuer it names is checked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::CoreProviderMetadata;
use openidconnect::{JsonWebKeySet, reqwest};
use renkei_core::sso::discovered_issuer_fits;

use crate::error::{Kind, ServiceError};

/// How long a discovery document and its keys are used before they are fetched again.
const FRESH_FOR: Duration = Duration::from_secs(15 * 60);
/// The longest wait for the provider.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Discovery documents by issuer, and the HTTP client that fetches them and redeems codes.
pub struct Providers {
    http: reqwest::Client,
    cache: Mutex<HashMap<String, (Instant, Arc<CoreProviderMetadata>)>>,
}

impl Default for Providers {
    fn default() -> Self {
        // Redirects are not followed: the provider's endpoints answer themselves (and a
        // redirect must not carry the client secret elsewhere).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_default();
        Providers {
            http,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

/// The provider could not be reached or answered nonsense.
pub(crate) fn unavailable(what: impl std::fmt::Display) -> ServiceError {
    tracing::warn!(error = %what, "identity provider unavailable");
    ServiceError::new(
        Kind::Unavailable,
        "sso_provider_unavailable",
        "the hospital's identity provider did not answer; try again, or ask an administrator",
    )
}

/// The provider is not the one configured.
pub(crate) fn wrong_issuer(what: impl std::fmt::Display) -> ServiceError {
    tracing::warn!(error = %what, "identity provider issuer mismatch");
    ServiceError::new(
        Kind::Forbidden,
        "sso_wrong_issuer",
        "the identity provider is not the one configured for this organization",
    )
}

impl Providers {
    /// The HTTP client for the provider's endpoints.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Forgets what was discovered of `issuer` (settings changed, or keys rotated).
    pub fn forget(&self, issuer: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(issuer);
        }
    }

    /// The discovery document of `issuer` with its keys, from the cache while fresh.
    pub async fn metadata(&self, issuer: &str) -> Result<Arc<CoreProviderMetadata>, ServiceError> {
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|cache| cache.get(issuer).cloned())
            .filter(|(at, _)| at.elapsed() < FRESH_FOR);
        if let Some((_, metadata)) = cached {
            return Ok(metadata);
        }
        let metadata = Arc::new(self.discover(issuer).await?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(issuer.to_string(), (Instant::now(), metadata.clone()));
        }
        Ok(metadata)
    }

    async fn discover(&self, issuer: &str) -> Result<CoreProviderMetadata, ServiceError> {
        let url = format!("{issuer}/.well-known/openid-configuration");
        let response = self
            .http
            .get(&url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(unavailable(format!(
                "discovery answered {}",
                response.status()
            )));
        }
        let body = response.bytes().await.map_err(unavailable)?;
        let metadata: CoreProviderMetadata = serde_json::from_slice(&body).map_err(unavailable)?;
        if !discovered_issuer_fits(issuer, metadata.issuer().as_str()) {
            return Err(wrong_issuer(format!(
                "configured {issuer}, discovered {}",
                metadata.issuer().as_str()
            )));
        }
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(unavailable)?;
        Ok(metadata.set_jwks(jwks))
    }
}
