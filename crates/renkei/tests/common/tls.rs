//! A throw-away certificate authority for TLS tests: server certificates for 127.0.0.1 and
//! localhost as PEM files, clients that trust only this CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// `der` as a PEM block labelled `label`.
fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A CA whose certificate is written to `ca.pem` in its folder.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pub cert_der: Vec<u8>,
    pub ca_path: PathBuf,
}

/// A server certificate (chain: leaf, then the CA) and its key, as files.
pub struct ServerCert {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// The leaf's DER, to recognise it in a handshake.
    pub leaf_der: Vec<u8>,
}

impl TestCa {
    pub fn new(dir: &Path) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "renkei test hospital CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, pem("CERTIFICATE", cert.der())).unwrap();
        TestCa {
            issuer: Issuer::new(params, key),
            cert_der: cert.der().to_vec(),
            ca_path,
        }
    }

    /// A new server certificate for 127.0.0.1 and localhost, written as `<name>.crt` and
    /// `<name>.key` in `dir`.
    pub fn issue(&self, dir: &Path, name: &str) -> ServerCert {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("renkei test server {name}"));
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        let chain = pem("CERTIFICATE", cert.der()) + &pem("CERTIFICATE", &self.cert_der);
        std::fs::write(&cert_path, chain).unwrap();
        std::fs::write(&key_path, pem("PRIVATE KEY", &key.serialize_der())).unwrap();
        ServerCert {
            cert_path,
            key_path,
            leaf_der: cert.der().to_vec(),
        }
    }

    /// An HTTP client that trusts this CA and nothing else.
    pub fn client(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_der(&self.cert_der).unwrap())
    }

    /// A TLS connection to `addr` that trusts only this CA; `Err` when the handshake fails.
    pub async fn connect(&self, addr: &str) -> std::io::Result<TlsStream<TcpStream>> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(
                self.cert_der.clone(),
            ))
            .unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = TcpStream::connect(addr).await?;
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
    }

    /// The leaf certificate `addr` presents in a new handshake.
    pub async fn served_leaf(&self, addr: &str) -> Vec<u8> {
        let tls = self.connect(addr).await.expect("a TLS handshake");
        tls.get_ref().1.peer_certificates().expect("a certificate")[0].to_vec()
    }
}
