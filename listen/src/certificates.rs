//! Certificates chosen by the name a client asks for (SNI): one listener
//! serving several host names (the TLS-RPT endpoint's own, and each
//! hosted domain's `mta-sts.<domain>`), each with its certificate, and a
//! default for a client that names none or an unknown one. Swappable at
//! run time (a renewed certificate replaces the old without a restart):
//! a handshake takes the certificate present when it starts.
//!
//! And the ACME TLS-ALPN-01 challenge (RFC 8737): a client that offers
//! only the `acme-tls/1` protocol (the CA validating a name) gets the
//! challenge certificate set for that name, and nothing else does.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::ServerConfig;

/// A certificate chain and its key from PEM text: what a file holds, or
/// what an ACME CA returned.
pub fn certified_key_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<CertifiedKey>, String> {
    let certs = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate".into());
    }
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|e| format!("the private key: {e}"))?
        .ok_or("no private key")?;
    let signing = tokio_rustls::rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| format!("the private key: {e}"))?;
    Ok(Arc::new(CertifiedKey::new(certs, signing)))
}

/// A certificate and key read from PEM files.
pub fn certified_key(cert: &Path, key_file: &Path) -> std::io::Result<Arc<CertifiedKey>> {
    let (cert_pem, key_pem) = (std::fs::read(cert)?, std::fs::read(key_file)?);
    certified_key_from_pem(&cert_pem, &key_pem).map_err(|why| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{why} ({} and {})", cert.display(), key_file.display()),
        )
    })
}

/// Certificates by host name (lower case), and the default.
/// The ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737 6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

#[derive(Debug, Default)]
pub struct SniCertificates {
    by_name: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    challenges: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    default: RwLock<Option<Arc<CertifiedKey>>>,
}

impl SniCertificates {
    pub fn new(default: Option<Arc<CertifiedKey>>) -> Self {
        Self {
            by_name: RwLock::default(),
            challenges: RwLock::default(),
            default: RwLock::new(default),
        }
    }

    /// Serves `key` to clients asking for `name` (replacing any before).
    pub fn set(&self, name: &str, key: Arc<CertifiedKey>) {
        if let Ok(mut names) = self.by_name.write() {
            names.insert(name.trim_end_matches('.').to_ascii_lowercase(), key);
        }
    }

    /// Answers the TLS-ALPN-01 challenge for `name` with `key` (None: stop).
    pub fn set_challenge(&self, name: &str, key: Option<Arc<CertifiedKey>>) {
        if let Ok(mut challenges) = self.challenges.write() {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            match key {
                Some(key) => challenges.insert(name, key),
                None => challenges.remove(&name),
            };
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
        let mut config = config;
        // HTTP/1.1 for everyone; `acme-tls/1` only selected for a client
        // offering it (a CA validating a name).
        config.alpn_protocols = vec![b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for SniCertificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let acme = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.all(|p| p == ACME_TLS_ALPN));
        if acme {
            let name = hello.server_name()?.to_ascii_lowercase();
            return self.challenges.read().ok()?.get(&name).cloned();
        }
        hello
            .server_name()
            .and_then(|name| self.get(name))
            .or_else(|| self.default.read().ok()?.clone())
    }
}
