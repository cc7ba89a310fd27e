//! renkei's HTTP service: the REST API under `/api/v1`, health, metrics and the OpenAPI spec.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod bootstrap;
pub mod cooperation;
pub mod dicom;
pub mod dicom_index;
pub mod dicom_scp;
pub mod dicomweb;
pub mod error;
pub mod extract;
pub mod gateway;
pub mod media;
pub mod messaging;
mod observe;
mod routes;
pub mod thumbnail;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use renkei_store::Store;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::auth::password::Hasher;
use crate::auth::ratelimit::RateLimiter;
use crate::dicom::DicomService;
use crate::media::MediaService;
use crate::messaging::Messaging;
use renkei_store::blobs::BlobStore;

pub use routes::openapi;

/// Tunables of the HTTP service; every field has a safe default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A session ends this many hours after sign-in, active or not.
    pub session_ttl_hours: i64,
    /// Wrong passwords for a login answered at once before sign-in slows down; wrong
    /// passcodes or second-factor codes in a row before the account locks.
    pub login_max_failures: i64,
    /// How long wrong passcodes or codes lock an account; the longest sign-in back-off.
    pub login_lockout_seconds: i64,
    /// Sign-in and unlock attempts allowed per client address per minute.
    pub login_attempts_per_minute: u32,
    /// Mark cookies `Secure` (set when clients reach renkei over HTTPS).
    pub secure_cookies: bool,
    /// Bearer token that opens `/metrics` on the main listener; without it `/metrics` is
    /// served only on `metrics_listen` (when configured).
    #[serde(skip_serializing)]
    pub metrics_token: Option<String>,
    /// The first sign-in back-off wait after `login_max_failures` wrong passwords; each
    /// further wrong password doubles it, up to `login_lockout_seconds`.
    pub login_backoff_seconds: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body_bytes: 1024 * 1024,
            session_ttl_hours: 14 * 24,
            login_max_failures: 5,
            login_lockout_seconds: 15 * 60,
            login_attempts_per_minute: 30,
            secure_cookies: false,
            metrics_token: None,
            login_backoff_seconds: 30,
        }
    }
}

/// Everything a request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub hasher: Hasher,
    pub limiter: Arc<RateLimiter>,
    pub messaging: Arc<Messaging>,
    pub media: MediaService,
    pub dicom: DicomService,
    /// DICOMweb's metadata cache and pixel-view audit throttle.
    pub dicomweb: dicomweb::DicomWebCache,
}

impl AppState {
    /// State over `store` with these settings and the default password hasher; starts the
    /// messaging tasks (call within a Tokio runtime).
    pub fn new(store: Store, blobs: BlobStore, settings: Settings) -> Self {
        let messaging = Messaging::start(store.clone());
        AppState {
            dicom: DicomService::new(store.clone(), blobs.clone())
                .with_hints(messaging.inbox.clone()),
            messaging,
            media: MediaService {
                store: store.clone(),
                blobs,
                limits: renkei_media::Limits::default(),
            },
            dicomweb: Default::default(),
            store,
            limiter: Arc::new(RateLimiter::new(settings.login_attempts_per_minute)),
            settings: Arc::new(settings),
            hasher: Hasher::default(),
        }
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
