//! renkei's rules, between the HTTP layer (`renkei-server`) and the store: who may do what, the
//! multi-step writes with their audit entries, ingest and the live parts of messaging. No HTTP
//! types: a [`ServiceError`] says what kind of refusal it is, and the caller maps it.

pub mod accounts;
pub mod admin;
pub mod annotations;
pub mod auth;
pub mod bootstrap;
pub mod calls;
pub mod conversations;
pub mod cooperation;
pub mod dicom;
pub mod dicom_index;
pub mod dicom_peers;
pub mod dicom_scp;
pub mod dicomweb;
pub mod error;
pub mod expiry;
pub mod gateway;
pub mod health;
pub mod media;
pub mod messages;
pub mod messaging;
pub mod notify;
pub mod push;
pub mod redaction;
pub mod redaction_rules;
pub mod run_once;
pub mod scim;
pub mod studies;
pub mod text;
pub mod thumbnail;
pub mod urgent;

use std::sync::Arc;

use renkei_store::Store;
use renkei_store::blobs::BlobStore;
use serde::{Deserialize, Serialize};

use crate::auth::password::Hasher;
use crate::dicom::DicomService;
use crate::media::MediaService;
use crate::messaging::Messaging;

pub use error::{Kind, OrService, ServiceError, ServiceResult};

/// Tunables of the service; every field has a safe default.
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
    /// Mark cookies `Secure` (set when clients reach renkei over HTTPS through a proxy; with
    /// `tls_cert` they always are).
    pub secure_cookies: bool,
    /// Set by `serve` when it terminates TLS itself (never read from the configuration):
    /// answers carry HSTS and cookies are `Secure`.
    #[serde(skip)]
    pub https: bool,
    /// Bearer token that opens `/metrics` on the main listener; without it `/metrics` is
    /// served only on `metrics_listen` (when configured).
    #[serde(skip_serializing)]
    pub metrics_token: Option<String>,
    /// The first sign-in back-off wait after `login_max_failures` wrong passwords; each
    /// further wrong password doubles it, up to `login_lockout_seconds`.
    pub login_backoff_seconds: i64,
    /// Hosts the server sends Web Push requests to (the SSRF allow-list): a host, or
    /// `*.parent` for its subdomains, on https. `host:port` entries match that port, and
    /// allow http when the host is loopback (`127.0.0.1`, `localhost`, `[::1]`: tests).
    pub push_endpoint_allow: Vec<String>,
    /// The VAPID `sub` claim: how a push service reaches the operator (`mailto:` or `https:`).
    pub push_subject: String,
    /// Most people in one call.
    pub call_max_participants: usize,
    /// TURN servers handed to calling clients, e.g. `turn:turn.example.org:3478` and
    /// `turns:turn.example.org:443?transport=tcp`.
    pub turn_urls: Vec<String>,
    /// coturn's `static-auth-secret`: renkei mints time-limited TURN credentials with it
    /// (coturn's REST scheme); without it `GET /api/v1/calls/turn` answers 404.
    #[serde(skip_serializing)]
    pub turn_secret: Option<String>,
    /// How long minted TURN credentials last, in seconds.
    pub turn_ttl_seconds: i64,
    /// Load balancers (addresses or CIDRs, e.g. `10.0.0.0/24`) whose `X-Forwarded-For` names
    /// the client; from any other peer the header is ignored and the peer is the client.
    pub trusted_proxies: Vec<String>,
    /// The address people open renkei at, e.g. `https://renkei.example-hospital.jp`: single
    /// sign-on's callback is under it (without it, the sign-in request's own `Host`), and
    /// passkeys are bound to its host (the WebAuthn relying party) and accepted from this
    /// origin only (any port on `localhost`, for tests). Without it passkeys are off.
    pub public_url: Option<String>,
}

impl Settings {
    /// Whether cookies are marked `Secure`: when configured, and always over renkei's own TLS.
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies || self.https
    }
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
            https: false,
            metrics_token: None,
            login_backoff_seconds: 30,
            push_endpoint_allow: [
                "fcm.googleapis.com",
                "updates.push.services.mozilla.com",
                "*.push.apple.com",
                "*.notify.windows.com",
            ]
            .map(String::from)
            .to_vec(),
            push_subject: "mailto:admin@localhost".into(),
            call_max_participants: 8,
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl_seconds: 3600,
            trusted_proxies: Vec::new(),
            public_url: None,
        }
    }
}

/// Everything a service call can reach: the store, the blob-backed services and the live
/// parts of messaging.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub hasher: Hasher,
    pub messaging: Arc<Messaging>,
    /// Sessions' activity, written together once a second in the message writer's lane.
    pub touches: Arc<auth::touches::SessionTouches>,
    pub media: MediaService,
    pub dicom: DicomService,
    /// DICOMweb's metadata cache and pixel-view audit throttle.
    pub dicomweb: dicomweb::DicomWebCache,
    /// Who tells people about messages when their app is closed (Web Push when configured).
    pub notifier: Arc<dyn notify::Notifier>,
    /// Where "now" comes from for the urgent-alert schedule (a manual clock in tests).
    pub clock: Arc<dyn renkei_core::clock::Clock>,
    /// The calls on this node, and the media relay (SFU) for group calls once wired.
    pub calls: Arc<calls::Calls>,
    /// Single sign-on providers as discovered (kept a while) and the client that reaches them.
    pub sso: Arc<auth::sso::provider::Providers>,
}

impl Services {
    /// Services over `store` with these settings and the default password hasher; starts the
    /// messaging tasks (call within a Tokio runtime).
    pub fn new(store: Store, blobs: BlobStore, settings: Settings) -> Self {
        Self::on_bus(
            store,
            blobs,
            settings,
            Arc::new(messaging::bus::LocalBus::new()),
        )
    }

    /// Like [`Services::new`], with hints between nodes on `bus` (NATS in a cluster).
    pub fn on_bus(
        store: Store,
        blobs: BlobStore,
        settings: Settings,
        bus: Arc<dyn messaging::bus::Bus>,
    ) -> Self {
        let messaging = Messaging::start_on(store.clone(), bus);
        Services {
            touches: auth::touches::SessionTouches::start(messaging.writer().clone()),
            calls: calls::Calls::start(store.clone(), messaging.clone()),
            dicom: DicomService::new(store.clone(), blobs.clone())
                .with_hints(messaging.inbox.clone()),
            messaging,
            media: MediaService {
                store: store.clone(),
                blobs,
                limits: renkei_media::Limits::default(),
            },
            dicomweb: Default::default(),
            notifier: notify::silent(),
            clock: Arc::new(renkei_core::clock::SystemClock),
            store,
            settings: Arc::new(settings),
            hasher: Hasher::default(),
            sso: Default::default(),
        }
    }

    /// These services with a media relay (the SFU) for group calls; what it says to
    /// participants (`signals`) goes to their sockets as `call_signal` from `"sfu"`. Call once.
    pub fn with_relay(
        self,
        relay: Arc<dyn renkei_core::call::MediaRelay>,
        signals: tokio::sync::mpsc::Receiver<renkei_core::call::RelaySignal>,
    ) -> Self {
        self.calls.set_relay(relay, signals);
        self
    }

    /// The media relay for group calls, if one is wired.
    pub fn relay(&self) -> Option<Arc<dyn renkei_core::call::MediaRelay>> {
        self.calls.relay()
    }
}
