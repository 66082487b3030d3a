//! For the network sources' tests (feature `sources`): a bus that records
//! and can be made unavailable, a self-signed certificate with a client
//! trusting it, and a loopback listener.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use dmarcflow_schemas::Ingested;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};

use dmarcflow_bus::BusError;
use dmarcflow_bus::Publish;
use dmarcflow_schemas::Rejected;

#[derive(Default)]
pub struct Recording {
    pub down: AtomicBool,
    pub reports: Mutex<Vec<String>>,
    pub letters: Mutex<Vec<String>>,
    /// The verdict on each report's email (`reporter_auth`), in order.
    pub verdicts: Mutex<Vec<Option<&'static str>>>,
}

impl Publish for Recording {
    async fn publish(&self, item: &Ingested<'_>) -> Result<(), BusError> {
        self.check()?;
        if let Ok(mut reports) = self.reports.lock() {
            reports.push(item.report.id().to_owned());
        }
        if let Ok(mut verdicts) = self.verdicts.lock() {
            verdicts.push(item.reporter.as_ref().map(|a| a.verdict.as_str()));
        }
        Ok(())
    }

    async fn dead_letter(
        &self,
        _raw: &[u8],
        rejected: &Rejected,
        _at: i64,
    ) -> Result<(), BusError> {
        self.check()?;
        if let Ok(mut letters) = self.letters.lock() {
            letters.push(rejected.reason.to_owned());
        }
        Ok(())
    }
}

impl Recording {
    fn check(&self) -> Result<(), BusError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BusError::Topic("broker down".into()));
        }
        Ok(())
    }
}

/// A certificate for `mx.test`: the server side and a client that trusts it.
pub fn tls() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["mx.test".into()])
        .unwrap_or_else(|e| panic!("{e}"));
    let der = CertificateDer::from(cert.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("{e}"))
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut roots = RootCertStore::empty();
    roots.add(der).unwrap_or_else(|e| panic!("{e}"));
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("{e}"))
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

/// A listener on a free loopback port, and its address.
pub async fn loopback() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    (listener, address)
}
