//! The gateway's configuration: fetched from the server at start and every minute (by default),
//! applied to the intake (held instances are looked at again under new rules), and kept
//! sealed on disk so that a gateway restarted while the server is unreachable still receives,
//! de-identifies and queues.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use renkei_core::dicom::GatewayConfig;

use crate::intake::Intake;
use crate::link::ServerLink;
use crate::seal::GatewayKey;

/// How often the configuration is fetched again (new or removed DICOM peers, redaction rules)
/// unless told otherwise.
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);
const CACHE_FILE: &str = "config.sealed";
const CACHE_LABEL: &str = "gateway-config";

fn save(key: &GatewayKey, data_dir: &Path, config: &GatewayConfig) {
    let saved = serde_json::to_vec(config)
        .map_err(|e| e.to_string())
        .and_then(|plain| key.seal(CACHE_LABEL, &plain).map_err(|e| e.to_string()))
        .and_then(|sealed| {
            let partial = data_dir.join(format!("{CACHE_FILE}.partial"));
            fs::write(&partial, sealed)
                .and_then(|()| fs::rename(&partial, data_dir.join(CACHE_FILE)))
                .map_err(|e| e.to_string())
        });
    if let Err(e) = saved {
        tracing::warn!(error = %e, "could not keep the gateway configuration on disk");
    }
}

fn load(key: &GatewayKey, data_dir: &Path) -> Option<GatewayConfig> {
    let sealed = fs::read(data_dir.join(CACHE_FILE)).ok()?;
    let plain = key.open(CACHE_LABEL, &sealed).ok()?;
    serde_json::from_slice(&plain).ok()
}

/// The configuration from the server, or the one kept from an earlier run when the server
/// cannot be reached. A refused token is an error either way.
pub async fn obtain(
    link: &ServerLink,
    key: &GatewayKey,
    data_dir: &Path,
) -> Result<GatewayConfig, String> {
    match link.config().await {
        Ok(config) => {
            save(key, data_dir, &config);
            Ok(config)
        }
        Err(retry) if retry.unauthorized => Err(format!(
            "the server refused the gateway token ({})",
            retry.reason
        )),
        Err(retry) => match load(key, data_dir) {
            Some(config) => {
                tracing::warn!(reason = %retry.reason, "server unreachable: using the configuration kept from the last run");
                Ok(config)
            }
            None => Err(format!(
                "cannot get the configuration from {} and none is kept from an earlier run: {}",
                link.server(),
                retry.reason
            )),
        },
    }
}

/// Fetches the configuration every `every` and applies it to the intake, then looks at the
/// held instances again (a new rule may clear them; at start too, for rules added while the
/// gateway was down).
pub async fn keep_fresh(
    (link, key, data_dir): (ServerLink, GatewayKey, std::path::PathBuf),
    every: Duration,
    intake: Arc<Intake>,
) {
    intake.review_held().await;
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.tick().await;
    loop {
        tick.tick().await;
        match link.config().await {
            Ok(config) => match intake.apply(&config) {
                Ok(()) => {
                    save(&key, &data_dir, &config);
                    intake.review_held().await;
                }
                Err(e) => tracing::warn!(error = %e, "ignoring a configuration from the server"),
            },
            Err(retry) => {
                tracing::debug!(reason = %retry.reason, "configuration not refreshed")
            }
        }
    }
}
