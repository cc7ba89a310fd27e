//! The edge gateway (`renkei gateway`): runs inside a hospital's network, receives DICOM from
//! its PACS and modalities, de-identifies each instance there with the organization's key and
//! rules (fetched from the server), scans its pixels for burned-in text (holding what may show
//! a patient), keeps it sealed in an on-disk queue, and forwards it to the server over HTTPS
//! (STOW-RS), surviving restarts and network loss.

mod config;
mod examine;
mod forward;
pub mod held;
mod intake;
mod link;
mod lock;
pub mod seal;
pub mod spool;
pub mod status;
pub mod verdict;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use renkei_dicom::inflight::{InFlight, InFlightLimits};
use renkei_dicom::scp::ScpConfig;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::forward::Forwarder;
use crate::intake::Intake;
use crate::link::ServerLink;
use crate::seal::GatewayKey;
use crate::spool::{Spool, now_millis};
use crate::status::{Recorded, StatusBook};

pub use config::REFRESH_EVERY;
pub use status::{Report, report};

/// How a gateway runs.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// The server's base URL, e.g. `https://renkei.example-hospital.jp`.
    pub server: String,
    /// The gateway's token (`renkei admin create-gateway`).
    pub token: String,
    /// Where the key, the queue and the status live.
    pub data_dir: PathBuf,
    /// Address of the DICOM port, e.g. `0.0.0.0:11112`.
    pub dicom_listen: String,
    /// The gateway's AE title.
    pub ae_title: String,
    /// A PEM file of the CA(s) that signed the server's certificate (a hospital's private CA),
    /// trusted instead of the system's roots.
    pub server_ca: Option<PathBuf>,
    /// How often the configuration (peers, redaction rules) is fetched again.
    pub config_refresh: Duration,
}

/// Runs the gateway until `shutdown` resolves.
pub async fn run<F>(options: GatewayOptions, shutdown: F) -> Result<(), String>
where
    F: Future<Output = ()> + Send,
{
    // A plain-http or unreadable CA setting fails here, before anything is created.
    let link = ServerLink::new(
        &options.server,
        &options.token,
        options.server_ca.as_deref(),
    )?;
    let data_dir = options.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let _lock = lock::acquire(&data_dir)?;
    let key = GatewayKey::load_or_create(&data_dir.join("keys").join("gateway.key"))
        .map_err(|e| e.to_string())?;
    let config = config::obtain(&link, &key, &data_dir).await?;
    let spool = Arc::new(Spool::open(&data_dir, key.clone()).map_err(|e| e.to_string())?);
    let book = Arc::new(StatusBook::open(
        &data_dir,
        Recorded {
            server: link.server().to_owned(),
            gateway_name: config.gateway_name.clone(),
            organization: config.org_name.clone(),
            pid: std::process::id(),
            started_at: now_millis(),
            ..Recorded::default()
        },
    ));
    let wake = Arc::new(Notify::new());
    let intake = Arc::new(Intake::new(
        &config,
        (spool.clone(), book.clone(), wake.clone()),
        renkei_dicom::text::system_detector(),
    )?);
    let listener = TcpListener::bind(&options.dicom_listen)
        .await
        .map_err(|e| format!("cannot listen for DICOM on {}: {e}", options.dicom_listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "renkei gateway '{}' of {}: DICOM listening on {address} as AE {}, forwarding to {}",
        config.gateway_name,
        config.org_name,
        options.ae_title,
        link.server()
    );
    tokio::spawn(
        Forwarder {
            link: link.clone(),
            spool,
            book,
            wake,
        }
        .run(),
    );
    // Data in flight: the default memory budget, large instances sealed in `<data>/spill`.
    let spill = data_dir.join("spill");
    let inflight = InFlight::new(&InFlightLimits::default(), &spill)
        .map_err(|e| format!("cannot prepare {}: {e}", spill.display()))?;
    tokio::spawn(config::keep_fresh(
        (link, key, data_dir),
        options.config_refresh,
        intake.clone(),
    ));
    let scp = ScpConfig {
        ae_title: options.ae_title,
        // An instance is worked on in memory: never larger than the budget.
        max_instance_size: config.max_instance_bytes.min(inflight.memory().limit()),
        inflight,
        ..ScpConfig::default()
    };
    renkei_dicom::scp::serve(listener, scp, intake.clone(), intake, shutdown)
        .await
        .map_err(|e| e.to_string())
}
