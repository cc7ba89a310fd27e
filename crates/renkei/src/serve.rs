//! `renkei serve`: open the store, create the first admin on an empty database, serve HTTP
//! (or HTTPS) and DICOM (plain and over TLS).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use renkei_core::clock::Timestamp;
use renkei_dicom::scp::{Gatekeeper, InstanceSink, ScpConfig, Transport};
use renkei_server::AppState;
use renkei_server::tls::TlsListener;
use renkei_service::bootstrap::ensure_first_admin;
use renkei_service::dicom_scp::{IngestSink, PeerDirectory};
use renkei_service::run_once;
use renkei_store::leadership::Job;
use serde::Serialize;
use std::sync::Arc;
use tokio::net::TcpListener;

use crate::StorageArgs;
use crate::config;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// HTTP address [default: 127.0.0.1:8080]
    #[arg(long)]
    listen: Option<String>,
    /// DICOM address, e.g. 0.0.0.0:11112 [default: off]
    #[arg(long)]
    dicom_listen: Option<String>,
    /// renkei's own AE title [default: RENKEI]
    #[arg(long)]
    dicom_ae: Option<String>,
    /// Log line format: text or json [default: text]
    #[arg(long)]
    log_format: Option<String>,
}

/// The flags given, as configuration keys (absent flags leave lower layers alone).
#[derive(Serialize)]
struct Flags<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<&'a PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dicom_listen: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dicom_ae: Option<&'a String>,
}

/// Logs to standard error as `text` or `json`, filtered by `RENKEI_LOG`.
pub fn init_logging(format: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RENKEI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        "json" => builder.json().init(),
        "text" => builder.init(),
        other => return Err(format!("log_format must be text or json, not {other:?}")),
    }
    Ok(())
}

/// Opens the group calls' media relay (the SFU) on `call_udp_listen` and hands it to the
/// call service; a port that cannot be bound stops the start, like the HTTP port.
fn start_call_relay(
    config: &config::Config,
    advertised: std::net::SocketAddr,
    state: &AppState,
) -> Result<(), String> {
    let listen: std::net::SocketAddr = config
        .call_udp_listen
        .parse()
        .map_err(|e| format!("call_udp_listen {:?}: {e}", config.call_udp_listen))?;
    let max = config.server.call_max_participants;
    let (sfu, signals) = renkei_sfu::Sfu::start(listen, advertised, max)
        .map_err(|e| format!("cannot open the call relay on UDP {listen}: {e}"))?;
    state.services.calls.set_relay(Arc::new(sfu), signals);
    Ok(())
}

pub async fn run(config_file: Option<&Path>, args: ServeArgs) -> Result<(), String> {
    let started = std::time::Instant::now();
    let flags = Flags {
        data_dir: args.storage.data_dir.as_ref(),
        database_url: args.storage.database_url.as_ref(),
        listen: args.listen.as_ref(),
        dicom_listen: args.dicom_listen.as_ref(),
        log_format: args.log_format.as_ref(),
        dicom_ae: args.dicom_ae.as_ref(),
    };
    let mut config = config::load(config_file, flags)?;
    init_logging(&config.log_format)?;
    let certificates = crate::tls::certificates(&config)?;
    // Over renkei's own TLS: HSTS on every answer, cookies Secure.
    config.server.https = certificates.is_some();
    let store = config::open_store(&config).await?;
    let blobs = config::open_blobs(&config)?;
    // Where group calls' media relay (the SFU, on `call_udp_listen`) says it can be reached.
    let call_addr = config.call_advertised_addr()?;
    tracing::debug!(%call_addr, "group calls advertise this address");
    renkei_server::client_addr::TrustedProxies::parse(&config.server.trusted_proxies)?;
    let bus = config::open_bus(&config).await?;
    let mut state = AppState::on_bus(store.clone(), blobs, config.server.clone(), bus);
    state.services.dicom.inflight = config::open_inflight(&config)?;
    renkei_service::push::start(&mut state.services)
        .await
        .map_err(|e| e.message)?;
    start_call_relay(&config, call_addr, &state)?;
    if let Some(first) = ensure_first_admin(&store, &state.hasher)
        .await
        .map_err(|e| e.message)?
    {
        announce_first_admin(&config, &first)?;
    }
    let http = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let http_addr = http.local_addr().map_err(|e| e.to_string())?;
    // Plain DICOM and DICOM over TLS (`certificates` checked that TLS is configured for it).
    let dicom_tls = (config.dicom_tls_listen.as_ref()).zip(certificates.as_ref());
    let dicom_listeners: Vec<(&String, Transport, &str)> = (config.dicom_listen.as_ref())
        .map(|addr| (addr, Transport::Plain, ""))
        .into_iter()
        .chain(dicom_tls.map(|(addr, certificates)| {
            let acceptor = certificates.server_config(&[]).into();
            (addr, Transport::Tls(acceptor), " over TLS")
        }))
        .collect();
    if !dicom_listeners.is_empty() {
        let peers: Arc<dyn Gatekeeper> = PeerDirectory::start(store.clone()).await;
        let sink: Arc<dyn InstanceSink> = Arc::new(IngestSink::new(state.dicom.clone()));
        for (addr, transport, label) in dicom_listeners {
            let dicom = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let dicom_addr = dicom.local_addr().map_err(|e| e.to_string())?;
            let scp_config = ScpConfig {
                ae_title: config.dicom_ae.clone(),
                max_instance_size: config.dicom_max_instance_size,
                inflight: state.dicom.inflight.clone(),
                transport,
                ..ScpConfig::default()
            };
            scp_config.validate().map_err(|e| e.to_string())?;
            println!(
                "renkei DICOM{label} listening on {dicom_addr} as AE {}",
                config.dicom_ae
            );
            let (peers, sink) = (peers.clone(), sink.clone());
            tokio::spawn(async move {
                if let Err(e) =
                    renkei_dicom::scp::serve(dicom, scp_config, peers, sink, std::future::pending())
                        .await
                {
                    tracing::error!(error = %e, "the DICOM service stopped");
                }
            });
        }
    }
    if let Some(addr) = &config.metrics_listen {
        let metrics = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let metrics_addr = metrics.local_addr().map_err(|e| e.to_string())?;
        println!("renkei metrics listening on http://{metrics_addr}");
        tokio::spawn(async move {
            if let Err(e) = renkei_server::serve_metrics(metrics, shutdown_signal()).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    tokio::spawn(report_gauges(state.dicom.inflight.clone(), store.clone()));
    tokio::spawn(sweep_sessions(store.clone()));
    tokio::spawn(checkpoint_every_second(store.clone()));
    tokio::spawn(watch_runtime_lag());
    tokio::spawn(refresh_directory_every_second(store.clone()));
    // Re-alerts and escalations of unacknowledged urgent messages, from the database's
    // schedule; runs for the life of the process.
    let _urgent = renkei_service::urgent::schedule::start(state.services.clone());
    tokio::spawn(sweep_expired(
        state.services.clone(),
        config.media_sweep_seconds,
    ));
    let drained = drain_then_stop(state.drain.clone(), config.drain_seconds);
    let served = match certificates {
        Some(certificates) => {
            crate::tls::reload_on_hangup(certificates.clone())?;
            if let Some(addr) = &config.http_redirect_listen {
                start_redirect(addr, http_addr.port()).await?;
            }
            let tls = TlsListener::new(http, certificates.server_config(&[b"http/1.1"]))
                .map_err(|e| e.to_string())?;
            println!("renkei listening on https://{http_addr}");
            tracing::info!(%http_addr, backend = ?store.backend(), startup_ms = started.elapsed().as_millis() as u64, "serving HTTPS");
            renkei_server::serve_tls(tls, state, drained).await
        }
        None => {
            println!("renkei listening on http://{http_addr}");
            tracing::info!(%http_addr, backend = ?store.backend(), startup_ms = started.elapsed().as_millis() as u64, "serving");
            renkei_server::serve(http, state, drained).await
        }
    };
    served.map_err(|e| format!("server failed: {e}"))?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Answers plain HTTP on `addr` with redirects to HTTPS on `https_port`.
async fn start_redirect(addr: &str, https_port: u16) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("renkei redirecting http://{local} to HTTPS");
    tokio::spawn(async move {
        if let Err(e) =
            renkei_server::tls::serve_redirect(listener, https_port, shutdown_signal()).await
        {
            tracing::error!(error = %e, "the HTTP redirect listener stopped");
        }
    });
    Ok(())
}

/// Publishes the DICOM data in flight (memory charged, spill files) and the database pool's
/// connections (in use, idle, most) as gauges every second.
async fn report_gauges(
    inflight: Arc<renkei_dicom::inflight::InFlight>,
    store: renkei_store::Store,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        metrics::gauge!("renkei_dicom_inflight_memory_bytes").set(inflight.memory().used() as f64);
        metrics::gauge!("renkei_dicom_inflight_spill_bytes").set(inflight.disk().used() as f64);
        let pool = store.pool_usage();
        metrics::gauge!("renkei_db_pool_connections", "state" => "in_use").set(pool.in_use);
        metrics::gauge!("renkei_db_pool_connections", "state" => "idle").set(pool.idle);
        metrics::gauge!("renkei_db_pool_max_connections").set(pool.max);
    }
}

/// Logs (at debug level) when a timer of the runtime fires late: a task held a worker thread.
async fn watch_runtime_lag() {
    const EVERY: Duration = Duration::from_millis(20);
    loop {
        let due = std::time::Instant::now() + EVERY;
        tokio::time::sleep(EVERY).await;
        let late = due.elapsed();
        if late >= renkei_service::messaging::writer::SLOW_WRITE {
            tracing::debug!(ms = late.as_millis() as u64, "the runtime was held up");
        }
    }
}

/// Keeps the write-ahead log short in the background, off the message writer's path.
async fn checkpoint_every_second(store: renkei_store::Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let started = std::time::Instant::now();
        if let Err(e) = store.checkpoint().await {
            tracing::warn!(error = %e, "background checkpoint failed");
        }
        let took = started.elapsed();
        if took >= renkei_service::messaging::writer::SLOW_WRITE {
            tracing::debug!(ms = took.as_millis() as u64, "slow background checkpoint");
        }
    }
}

/// Keeps the staff directory's documents current in the background, so a bulk change (a CSV
/// import of thousands of staff) is searchable within seconds without holding up a search; on
/// the node leading the job.
async fn refresh_directory_every_second(store: renkei_store::Store) {
    let rebuild = store.clone();
    run_once::every(store, Job::DirectoryRebuild, Duration::from_secs(1), || {
        let store = rebuild.clone();
        async move {
            match store.refresh_directory().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(documents = n, "directory documents rebuilt"),
                Err(e) => tracing::warn!(error = %e, "could not rebuild directory documents"),
            }
        }
    })
    .await;
}

/// Removes expired sessions every ten minutes, on the node leading the job.
async fn sweep_sessions(store: renkei_store::Store) {
    let sessions = store.clone();
    run_once::every(store, Job::SessionSweep, Duration::from_secs(600), || {
        let store = sessions.clone();
        async move {
            match store.delete_expired_sessions(Timestamp::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "expired sessions removed"),
                Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
            }
        }
    })
    .await;
}

/// Destroys expired media and studies now (catching up on what expired while no node ran the
/// sweep) and then on a schedule: one sweep for both, on the node leading the job.
async fn sweep_expired(services: renkei_service::Services, every_seconds: u64) {
    let period = Duration::from_secs(every_seconds.max(1));
    let store = services.store.clone();
    run_once::every(store, Job::ExpirySweep, period, || {
        let services = services.clone();
        async move {
            if let Err(e) = services.sweep_expired(Timestamp::now()).await {
                tracing::warn!(code = e.code, message = %e.message, "expiry sweep failed; retrying at the next one");
            }
        }
    })
    .await;
}

/// Resolves `seconds` after Ctrl-C or SIGTERM, having answered readiness checks 503
/// `draining` meanwhile, so a load balancer stops sending new work here before the listener
/// closes.
async fn drain_then_stop(drain: renkei_service::health::Drain, seconds: u64) {
    shutdown_signal().await;
    if seconds > 0 {
        drain.start();
        tracing::info!(
            seconds,
            "draining: /readyz answers 503 until the listener closes"
        );
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Hands the first administrator's one-time password over once, never to the log: into
/// `initial_password_file` (created 0600) when configured, else on stdout.
fn announce_first_admin(
    config: &crate::config::Config,
    first: &renkei_service::bootstrap::FirstAdmin,
) -> Result<(), String> {
    let created = format!(
        "First start: created organization \"{}\" and its administrator.\n  login:    {}",
        first.org_slug, first.login
    );
    match &config.initial_password_file {
        Some(path) => {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            writeln!(file, "{}", first.one_time_password)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!(
                "{created}\n  password: in {} (one-time: it must be changed at first sign-in)",
                path.display()
            );
        }
        None => println!(
            "{created}\n  password: {}\n  (one-time: it must be changed at first sign-in)",
            first.one_time_password
        ),
    }
    Ok(())
}
