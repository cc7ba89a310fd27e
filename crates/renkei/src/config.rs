//! Configuration: defaults, then `renkei.toml`, then `RENKEI_*` variables, then flags.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use renkei_dicom::inflight::{InFlight, InFlightLimits};
use renkei_service::Settings;
use renkei_store::Store;
use renkei_store::blobs::{BlobStore, KeyRing, keyring};
use serde::{Deserialize, Serialize};

/// Everything `renkei` can be configured with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Folder for the SQLite database and files.
    pub data_dir: PathBuf,
    /// PostgreSQL URL; SQLite in `data_dir` when absent.
    pub database_url: Option<String>,
    /// HTTP address (HTTPS with `tls_cert`).
    pub listen: String,
    /// PEM certificate chain (leaf first) for HTTPS and DICOM over TLS; reloaded on SIGHUP.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1); reloaded with it.
    pub tls_key: Option<PathBuf>,
    /// With TLS: an address answering plain HTTP with 301 to HTTPS; off when absent.
    pub http_redirect_listen: Option<String>,
    /// DICOM address; off when absent.
    pub dicom_listen: Option<String>,
    /// DICOM over TLS (PS3.15 Annex B) with `tls_cert`; off when absent.
    pub dicom_tls_listen: Option<String>,
    /// renkei's own AE title.
    pub dicom_ae: String,
    /// Bytes of DICOM data in flight held in memory at once, by every association and STOW-RS
    /// upload together; beyond it data sets go to sealed spill files.
    pub dicom_memory_budget: u64,
    /// A data set or STOW-RS part larger than this is spilled to disk (sealed) as it arrives.
    pub dicom_spill_threshold: u64,
    /// Bytes of spill files at once, in `<data_dir>/spill`.
    pub dicom_spill_budget: u64,
    /// The largest C-STORE data set taken (larger ones are answered 0xA700).
    pub dicom_max_instance_size: u64,
    /// `text` or `json` log lines on stderr.
    pub log_format: String,
    /// Base64 master key for media encryption (version 1); without it the key is kept in
    /// `<data_dir>/keys/master-1.key`, created on first start.
    pub master_key: Option<String>,
    /// Where encrypted media and DICOM objects go: `s3://bucket[/prefix]` (credentials from
    /// `AWS_*` variables); without it, `<data_dir>/blobs`.
    pub object_store_url: Option<String>,
    /// Seconds between sweeps for expired media.
    pub media_sweep_seconds: u64,
    /// Seconds a node asked to stop (SIGTERM) keeps serving while `/readyz` answers 503
    /// `draining`, so a load balancer moves new work elsewhere first (docs/DEPLOYMENT.md); 0
    /// for a single node.
    pub drain_seconds: u64,
    /// Where statistics days (usage counters, seats, report ranges) begin, in minutes east
    /// of UTC: 540 for Japan (midnight JST), 0 for UTC; −720 to 840.
    pub stats_utc_offset_minutes: i32,
    /// Address serving `/metrics` alone, without a token (loopback or a monitoring
    /// network); off when absent.
    pub metrics_listen: Option<String>,
    /// The SFU's one UDP port for group calls' media.
    pub call_udp_listen: String,
    /// The address the SFU advertises in its ICE candidates; without it the listen address
    /// (127.0.0.1, with a warning, when that is unspecified).
    pub call_public_addr: Option<String>,
    /// NATS server(s) carrying live hints between renkei nodes, e.g. `nats://10.0.0.5:4222`
    /// (several comma-separated); without it one process serves everything (in-process bus).
    pub nats_url: Option<String>,
    /// The subjects this deployment uses on NATS (`<prefix>.signal`): one per deployment
    /// sharing a NATS server.
    pub nats_subject_prefix: String,
    /// Where the first start writes the administrator's one-time password (a new file, mode
    /// 0600, owned by the service's user) instead of printing it; the Debian package sets it.
    pub initial_password_file: Option<PathBuf>,
    /// HTTP service tunables.
    #[serde(flatten)]
    pub server: Settings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./renkei-data"),
            database_url: None,
            listen: "127.0.0.1:8080".into(),
            tls_cert: None,
            tls_key: None,
            http_redirect_listen: None,
            dicom_listen: None,
            dicom_tls_listen: None,
            dicom_ae: "RENKEI".into(),
            dicom_memory_budget: InFlightLimits::default().memory_budget,
            dicom_spill_threshold: InFlightLimits::default().spill_threshold,
            dicom_spill_budget: InFlightLimits::default().disk_budget,
            dicom_max_instance_size: renkei_dicom::scp::config::DEFAULT_MAX_INSTANCE_SIZE,
            log_format: "text".into(),
            master_key: None,
            object_store_url: None,
            media_sweep_seconds: 60,
            drain_seconds: 0,
            stats_utc_offset_minutes: 540,
            metrics_listen: None,
            call_udp_listen: "0.0.0.0:7882".into(),
            call_public_addr: None,
            nats_url: None,
            nats_subject_prefix: "renkei".into(),
            initial_password_file: None,
            server: Settings::default(),
        }
    }
}

impl Config {
    /// The address the SFU advertises: `call_public_addr`, else the listen address unless it
    /// is unspecified (0.0.0.0 or ::), else 127.0.0.1 on the listen port (and a warning).
    pub fn call_advertised_addr(&self) -> Result<std::net::SocketAddr, String> {
        let listen: std::net::SocketAddr = self
            .call_udp_listen
            .parse()
            .map_err(|e| format!("call_udp_listen {:?}: {e}", self.call_udp_listen))?;
        if let Some(public) = &self.call_public_addr {
            return match public.parse::<std::net::SocketAddr>() {
                Ok(addr) => Ok(addr),
                Err(_) => public
                    .parse::<std::net::IpAddr>()
                    .map(|ip| std::net::SocketAddr::new(ip, listen.port()))
                    .map_err(|e| format!("call_public_addr {public:?}: {e}")),
            };
        }
        if listen.ip().is_unspecified() {
            tracing::warn!(
                "call_public_addr is not set and call_udp_listen is unspecified: group calls \
                 advertise 127.0.0.1 and work only on this machine"
            );
            return Ok(std::net::SocketAddr::new(
                std::net::Ipv4Addr::LOCALHOST.into(),
                listen.port(),
            ));
        }
        Ok(listen)
    }
}

/// Loads the configuration; `flags` holds only the flags given on the command line.
pub fn load(file: Option<&Path>, flags: impl Serialize) -> Result<Config, String> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) if !path.exists() => {
            return Err(format!("configuration file {} not found", path.display()));
        }
        Some(path) => figment = figment.merge(Toml::file(path)),
        None => figment = figment.merge(Toml::file("renkei.toml")),
    }
    figment
        .merge(Env::prefixed("RENKEI_").ignore(&["CONFIG", "TEST_POSTGRES_URL"]))
        .merge(Serialized::defaults(flags))
        .extract()
        .map_err(|e| format!("configuration: {e}"))
}

/// Opens the configured database (creating the data folder for SQLite) and migrates it;
/// statistics days begin at the configured offset from UTC.
/// Message bodies are sealed with the master keys (see [`master_keys`]); bodies stored before
/// sealing existed are sealed on the first start.
pub async fn open_store(config: &Config) -> Result<Store, String> {
    Store::set_stats_day_offset(config.stats_utc_offset_minutes).map_err(|e| e.to_string())?;
    let keys = master_keys(config)?;
    let store = if let Some(url) = &config.database_url {
        Store::connect(url)
            .await
            .map_err(|e| format!("cannot open {}: {e}", redact_url(url)))?
    } else {
        create_private_dir(&config.data_dir)?;
        let path = config.data_dir.join("renkei.db");
        Store::open_sqlite(&path)
            .await
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?
    };
    store
        .with_message_keys(keys)
        .await
        .map_err(|e| format!("sealing stored messages: {e}"))
}

/// The master keys: the configured one, or those kept in `<data_dir>/keys`.
fn master_keys(config: &Config) -> Result<KeyRing, String> {
    create_private_dir(&config.data_dir)?;
    match &config.master_key {
        Some(text) => KeyRing::from_keys([(
            1,
            keyring::parse_key(text.trim()).map_err(|e| format!("master_key: {e}"))?,
        )]),
        None => KeyRing::load_or_create(&config.data_dir.join("keys")),
    }
    .map_err(|e| format!("media keys: {e}"))
}

/// Opens the encrypted media store in `<data_dir>/blobs`, with the configured master key or
/// the one kept in `<data_dir>/keys`.
pub fn open_blobs(config: &Config) -> Result<BlobStore, String> {
    let keys = master_keys(config)?;
    match &config.object_store_url {
        Some(url) if url.starts_with("s3://") => {
            BlobStore::s3(url, keys).map_err(|e| format!("object store {url}: {e}"))
        }
        Some(url) => Err(format!(
            "object_store_url must start with s3://, not {url:?}"
        )),
        None => BlobStore::local(&config.data_dir.join("blobs"), keys)
            .map_err(|e| format!("media store: {e}")),
    }
}

/// The bus for live hints: NATS between nodes when `nats_url` is set, else in-process.
pub async fn open_bus(
    config: &Config,
) -> Result<Arc<dyn renkei_service::messaging::bus::Bus>, String> {
    use renkei_service::messaging::{bus::LocalBus, nats::NatsBus};
    match &config.nats_url {
        Some(url) => {
            let bus = NatsBus::start(url, &config.nats_subject_prefix).await?;
            tracing::info!(url = %redact_url(url), prefix = %config.nats_subject_prefix, "live hints go over NATS");
            Ok(bus)
        }
        None => Ok(Arc::new(LocalBus::new())),
    }
}

/// Creates `dir` readable only by its owner.
fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// The budgets of DICOM data in flight, spilling into `<data_dir>/spill` (emptied of what a
/// previous run left there).
pub fn open_inflight(config: &Config) -> Result<std::sync::Arc<InFlight>, String> {
    let limits = InFlightLimits {
        memory_budget: config.dicom_memory_budget,
        spill_threshold: config.dicom_spill_threshold,
        disk_budget: config.dicom_spill_budget,
    };
    let dir = config.data_dir.join("spill");
    InFlight::new(&limits, &dir).map_err(|e| format!("cannot prepare {}: {e}", dir.display()))
}

/// A database URL without its password, fit for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{user}@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn the_advertised_call_address_prefers_the_public_one_then_a_specified_listen_address() {
        let mut config = Config::default();
        assert_eq!(
            config.call_advertised_addr().unwrap().to_string(),
            "127.0.0.1:7882",
            "unspecified listen address: loopback"
        );
        config.call_udp_listen = "10.1.2.3:9000".into();
        assert_eq!(
            config.call_advertised_addr().unwrap().to_string(),
            "10.1.2.3:9000"
        );
        config.call_public_addr = Some("203.0.113.7".into());
        assert_eq!(
            config.call_advertised_addr().unwrap().to_string(),
            "203.0.113.7:9000"
        );
        config.call_public_addr = Some("203.0.113.7:443".into());
        assert_eq!(
            config.call_advertised_addr().unwrap().to_string(),
            "203.0.113.7:443"
        );
        config.call_public_addr = Some("nowhere".into());
        assert!(config.call_advertised_addr().is_err());
    }

    /// The Debian package's `/etc/renkei/renkei.toml`, with every commented `# key = value`
    /// example switched on: each key is a real setting and each example value parses.
    #[test]
    fn the_packaged_configuration_names_only_real_settings() {
        let packaged = include_str!("../../../packaging/renkei.toml");
        let switched_on: String = packaged
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest.split_once(" = ").is_some_and(|(k, _)| {
                        k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) =>
                {
                    rest
                }
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let keys: std::collections::BTreeMap<String, figment::value::Value> =
            Figment::from(Toml::string(&switched_on)).extract().unwrap();
        // Secrets are never serialized: such a key is real when setting it changes the
        // configuration (an unknown key would be ignored).
        let known = serde_json::to_value(Config::default()).unwrap();
        let default = format!("{:?}", Config::default());
        let unknown: Vec<&String> = keys
            .iter()
            .filter(|(key, value)| {
                known.get(key.as_str()).is_none() && {
                    let alone: Config = Figment::from(Serialized::defaults(Config::default()))
                        .merge(Serialized::global(key.as_str(), value))
                        .extract()
                        .unwrap();
                    format!("{alone:?}") == default
                }
            })
            .map(|(key, _)| key)
            .collect();
        assert!(unknown.is_empty(), "not settings: {unknown:?}");
        assert!(keys.len() > 25, "examples were switched on: {}", keys.len());
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(&switched_on))
            .extract()
            .unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/renkei"));
        assert_eq!(
            config.initial_password_file,
            Some(PathBuf::from("/var/lib/renkei/initial-admin-password"))
        );
    }
}
