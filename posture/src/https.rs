//! Fetching a policy file over HTTPS as MTA-STS senders do (RFC 8461 3.3):
//! the host's address from the check's own DNS, the certificate validated
//! against the web PKI (plus any CA the operator adds, for private test
//! zones), no redirects followed, and everything bounded: one timeout for
//! the whole fetch (connect, handshake, head and body) and a cap on the
//! body's bytes, so a server that trickles or sends 10 MB costs at most
//! the timeout and the cap.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::dns::{Dns, Lookup};
use crate::trust::TrustError;

/// RFC 8461 3.3 advises senders to cap policies at 64 KiB.
pub const MAX_BODY: usize = 64 * 1024;

/// Why a fetch gave no body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0} has no address")]
    NoAddress(String),
    #[error("{0}")]
    Dns(String),
    #[error("connecting to {0}: {1}")]
    Connect(String, String),
    #[error("TLS with {0}: {1}")]
    Tls(String, String),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("the body is over {0} bytes")]
    TooLarge(usize),
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
}

/// What a server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

pub struct Https {
    connector: TlsConnector,
    timeout: Duration,
    port: u16,
}

impl Https {
    /// Trusting `roots` ([`crate::trust::roots`]); `port` is 443 but for
    /// tests.
    pub fn new(
        roots: Arc<RootCertStore>,
        timeout: Duration,
        port: u16,
    ) -> Result<Self, TrustError> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TrustError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            timeout,
            port,
        })
    }

    /// `GET https://host/path`, bounded as the module says.
    pub async fn get(&self, dns: &impl Dns, host: &str, path: &str) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.timeout, self.fetch(dns, host, path))
            .await
            .unwrap_or(Err(FetchError::Timeout(self.timeout)))
    }

    async fn fetch(&self, dns: &impl Dns, host: &str, path: &str) -> Result<Fetched, FetchError> {
        let address = match dns.addresses(host).await {
            Lookup::Found(addresses) => addresses[0],
            Lookup::Absent => return Err(FetchError::NoAddress(host.to_owned())),
            Lookup::Failed(why) => return Err(FetchError::Dns(why)),
        };
        let tcp = tokio::net::TcpStream::connect((address, self.port))
            .await
            .map_err(|e| FetchError::Connect(host.to_owned(), e.to_string()))?;
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| FetchError::Tls(host.to_owned(), e.to_string()))?;
        let tls = self
            .connector
            .connect(name, tcp)
            .await
            .map_err(|e| FetchError::Tls(host.to_owned(), e.to_string()))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let driver = tokio::spawn(connection);
        let _stop = AbortOnDrop(driver);
        let request = hyper::Request::builder()
            .uri(path)
            .header(hyper::header::HOST, host)
            .header(hyper::header::CONNECTION, "close")
            .header(hyper::header::USER_AGENT, "dmarcflow-posture")
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let header = |name: hyper::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let content_type = header(hyper::header::CONTENT_TYPE);
        let location = header(hyper::header::LOCATION);
        if let Some(length) = response
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .filter(|l| *l > MAX_BODY)
        {
            let _ = length;
            return Err(FetchError::TooLarge(MAX_BODY));
        }
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    FetchError::TooLarge(MAX_BODY)
                } else {
                    FetchError::Http(e.to_string())
                }
            })?
            .to_bytes()
            .to_vec();
        Ok(Fetched {
            status,
            content_type,
            location,
            body,
        })
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
