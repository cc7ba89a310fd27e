//! renkei's HTTP service: the REST API under `/api/v1`, health, metrics and the OpenAPI spec.

pub mod auth;
pub mod client_addr;
mod csv_download;
pub mod error;
pub mod extract;
pub mod messaging;
mod observe;
mod routes;
pub mod tls;
pub mod web;

/// Parsers of untrusted input reachable without a server, for the fuzz targets (`fuzz/`).
#[doc(hidden)]
pub mod fuzzing {
    /// The STOW-RS `multipart/related` body splitter.
    pub use crate::routes::dicomweb::multipart::{Splitter, Step, boundary_of, parameter};
}

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use renkei_store::Store;
use renkei_store::blobs::BlobStore;
use tokio::net::TcpListener;

use crate::client_addr::TrustedProxies;
use renkei_service::auth::address_limit::AddressLimit;
use renkei_service::messaging::bus::{Bus, LocalBus};

pub use renkei_service::{
    Services, Settings, accounts, admin, bootstrap, cooperation, dicom, dicom_index, dicom_scp,
    dicomweb, gateway, media, thumbnail,
};
pub use routes::openapi;

/// Everything a request handler can reach: the services, the per-address limit, and the
/// load balancers whose `X-Forwarded-For` is believed.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub limiter: Arc<AddressLimit>,
    pub proxies: Arc<TrustedProxies>,
    /// Set when this node is asked to stop: `/readyz` then answers 503 `draining`.
    pub drain: renkei_service::health::Drain,
}

impl AppState {
    /// State over `store` with these settings and the default password hasher; starts the
    /// messaging tasks (call within a Tokio runtime).
    pub fn new(store: Store, blobs: BlobStore, settings: Settings) -> Self {
        Self::on_bus(store, blobs, settings, Arc::new(LocalBus::new()))
    }

    /// Like [`AppState::new`], with hints between nodes on `bus` (NATS in a cluster). Invalid
    /// `trusted_proxies` entries trust nobody (`renkei serve` refuses them first).
    pub fn on_bus(store: Store, blobs: BlobStore, settings: Settings, bus: Arc<dyn Bus>) -> Self {
        let proxies = TrustedProxies::parse(&settings.trusted_proxies).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "trusting no proxy");
            TrustedProxies::default()
        });
        AppState {
            proxies: Arc::new(proxies),
            limiter: Arc::new(AddressLimit::new(
                store.clone(),
                settings.login_attempts_per_minute,
            )),
            services: Services::on_bus(store, blobs, settings, bus),
            drain: Default::default(),
        }
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    routes::router(state)
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Small frames (acks, events) must leave at once, not wait for a delayed ACK (Nagle).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves HTTPS on `listener` until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve_tls(
    listener: tls::TlsListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // The TCP side was set up (no delay) before the handshake; this wrapper only gives axum
    // the peer's address.
    axum::serve(listener.tap_io(|_| {}), app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves only `GET /metrics`, without a token, on a listener of its own (`metrics_listen`:
/// loopback or a monitoring network, never the address users reach).
pub async fn serve_metrics(
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, routes::metrics_router())
        .with_graceful_shutdown(shutdown)
        .await
}
