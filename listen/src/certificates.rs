//! Certificates chosen by the name a client asks for (SNI): one listener
//! serving several host names (the TLS-RPT endpoint's own, and each
//! hosted domain's `mta-sts.<domain>`), each with its certificate, and a
//! default for a client that names none or an unknown one. Swappable at
//! run time (a renewed certificate replaces the old without a restart):
//! a handshake takes the certificate present when it starts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::ServerConfig;

/// A certificate and key read from PEM files.
pub fn certified_key(cert: &Path, key_file: &Path) -> std::io::Result<Arc<CertifiedKey>> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(std::fs::File::open(cert)?))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(invalid(format!("no certificate in {}", cert.display())));
    }
    let key =
        rustls_pemfile::private_key(&mut std::io::BufReader::new(std::fs::File::open(key_file)?))?
            .ok_or_else(|| invalid(format!("no private key in {}", key_file.display())))?;
    let signing = tokio_rustls::rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| invalid(format!("the private key in {}: {e}", key_file.display())))?;
    Ok(Arc::new(CertifiedKey::new(certs, signing)))
}

/// Certificates by host name (lower case), and the default.
#[derive(Debug, Default)]
pub struct SniCertificates {
    by_name: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    default: RwLock<Option<Arc<CertifiedKey>>>,
}

impl SniCertificates {
    pub fn new(default: Option<Arc<CertifiedKey>>) -> Self {
        Self {
            by_name: RwLock::default(),
            default: RwLock::new(default),
        }
    }

    /// Serves `key` to clients asking for `name` (replacing any before).
    pub fn set(&self, name: &str, key: Arc<CertifiedKey>) {
        if let Ok(mut names) = self.by_name.write() {
            names.insert(name.trim_end_matches('.').to_ascii_lowercase(), key);
        }
    }

    /// The certificate served for `name`, if one is set.
    pub fn get(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        self.by_name
            .read()
            .ok()?
            .get(&name.trim_end_matches('.').to_ascii_lowercase())
            .cloned()
    }

    /// A server configuration choosing among these certificates.
    pub fn server_config(self: &Arc<Self>) -> std::io::Result<Arc<ServerConfig>> {
        let config = ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(self.clone());
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for SniCertificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello
            .server_name()
            .and_then(|name| self.get(name))
            .or_else(|| self.default.read().ok()?.clone())
    }
}
