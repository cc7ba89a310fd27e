//! `tls_cert` and `tls_key`: the certificate HTTPS and DICOM over TLS present, loaded at start
//! and again on every SIGHUP.

use std::sync::Arc;

use renkei_server::tls::Certificates;

use crate::config::Config;

/// The configured certificates, or `None` without TLS; settings that need TLS are refused
/// without it.
pub fn certificates(config: &Config) -> Result<Option<Arc<Certificates>>, String> {
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Certificates::load(cert, key)
            .map(Some)
            .map_err(|e| format!("TLS: {e}")),
        (Some(_), None) => Err("tls_cert is set without tls_key".into()),
        (None, Some(_)) => Err("tls_key is set without tls_cert".into()),
        (None, None) => {
            for (key, set) in [
                (
                    "http_redirect_listen",
                    config.http_redirect_listen.is_some(),
                ),
                ("dicom_tls_listen", config.dicom_tls_listen.is_some()),
            ] {
                if set {
                    return Err(format!("{key} needs tls_cert and tls_key"));
                }
            }
            Ok(None)
        }
    }
}

/// Reloads the certificate and key on every SIGHUP: handshakes from then on get the new pair,
/// open connections keep theirs; files that do not load leave the pair in use (logged).
#[cfg(unix)]
pub fn reload_on_hangup(certificates: Arc<Certificates>) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups =
        signal(SignalKind::hangup()).map_err(|e| format!("cannot watch for SIGHUP: {e}"))?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match certificates.reload() {
                Ok(()) => tracing::info!("TLS certificate reloaded"),
                Err(e) => tracing::error!(
                    code = e.code(),
                    error = %e,
                    "TLS certificate not reloaded; the one in use stays"
                ),
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
pub fn reload_on_hangup(_certificates: Arc<Certificates>) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_without_a_certificate_and_key_are_refused() {
        let error = |config: Config| certificates(&config).unwrap_err();
        assert!(certificates(&Config::default()).unwrap().is_none());
        assert!(
            error(Config {
                tls_cert: Some("cert.pem".into()),
                ..Config::default()
            })
            .contains("without tls_key")
        );
        assert!(
            error(Config {
                tls_key: Some("key.pem".into()),
                ..Config::default()
            })
            .contains("without tls_cert")
        );
        for config in [
            Config {
                http_redirect_listen: Some("0.0.0.0:80".into()),
                ..Config::default()
            },
            Config {
                dicom_tls_listen: Some("0.0.0.0:2762".into()),
                ..Config::default()
            },
        ] {
            assert!(error(config).contains("needs tls_cert and tls_key"));
        }
        let missing = error(Config {
            tls_cert: Some("/nonexistent/cert.pem".into()),
            tls_key: Some("/nonexistent/key.pem".into()),
            ..Config::default()
        });
        assert!(
            missing.contains("cannot read /nonexistent/cert.pem"),
            "{missing}"
        );
    }
}
