//! Whom the check trusts for TLS: the web PKI (the roots senders use) and
//! any CA the operator adds for private zones and tests. One store, shared
//! by the policy and logo fetches ([`crate::https`]) and the MX probes
//! ([`crate::starttls`]), so both judge certificates alike.

use std::sync::Arc;

use tokio_rustls::rustls::RootCertStore;

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("the CA file: {0}")]
    CaFile(String),
    #[error("TLS setup: {0}")]
    Tls(String),
}

/// The web PKI's roots plus every certificate of `extra_ca_pem`.
pub fn roots(extra_ca_pem: Option<&[u8]>) -> Result<Arc<RootCertStore>, TrustError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca_pem {
        let mut reader = pem;
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut reader) {
            let cert = cert.map_err(|e| TrustError::CaFile(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| TrustError::CaFile(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(TrustError::CaFile("no certificate in it".into()));
        }
    }
    Ok(Arc::new(roots))
}
