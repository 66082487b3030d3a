//! The HTTPS endpoint for SMTP TLS reports (RFC 8460 section 3): a POST of
//! `application/tlsrpt+gzip` or `application/tlsrpt+json`; and a GET of a
//! hosted page ([`pages`]: MTA-STS policies), 404 for anything else. `handler` reads
//! one request (size limit, content type, a minimum body rate) and answers
//! 200 only once the report (or the dead letter saying why it is none) is
//! on the bus; `serve` accepts through `dmarcflow-listen` (caps, 503 past
//! them) and runs each connection: a bounded TLS handshake when
//! configured, then HTTP/1.1 under a clock that bounds the request head
//! and the keep-alive idle time.

mod handler;
pub mod pages;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use dmarcflow_bus::Publish;
use dmarcflow_listen::{ClockedIo, Gate, Limits, Refusal, Refuser, RequestClock, RequestTimeouts};

/// The `listener` label of this listener's metrics.
pub const LISTENER: &str = "http";

/// The largest request head (and the largest read buffer a connection
/// grows): larger is answered 431. A TLS report needs a few hundred bytes.
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// What an open HTTPS connection holds at most, reserved from the memory
/// budget for as long as it is open: the read buffer up to
/// [`MAX_HEAD_BYTES`], hyper's write buffer and rustls's record buffers
/// (about 34 KiB in and out), rounded up. The body is reserved apart.
pub const CONNECTION_RESERVE: u64 = 128 << 10;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Serve HTTPS with this certificate (plain HTTP without, e.g. behind a
    /// TLS-terminating proxy).
    pub tls: Option<Arc<ServerConfig>>,
    /// How long a report may wait for the bus before the answer is 503.
    pub bus_timeout: Duration,
    /// Connections held at once, in all and per client address.
    pub limits: Limits,
    /// How long a TLS handshake may take.
    pub tls_handshake: Duration,
    /// How long a request head may take, and a connection may idle
    /// between requests.
    pub request: RequestTimeouts,
    /// The slowest body accepted, in bytes a second on average once
    /// `body_grace` has passed (0: no minimum). Apache's mod_reqtimeout
    /// gives a body 20 s, then one more second per 500 bytes.
    pub min_body_rate: u64,
    pub body_grace: Duration,
    /// What GET serves (hosted MTA-STS policies); None: every GET is 404.
    pub pages: Option<Arc<pages::Pages>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 << 20,
            tls: None,
            bus_timeout: Duration::from_secs(30),
            limits: Limits::defaults(CONNECTION_RESERVE),
            tls_handshake: Duration::from_secs(30),
            request: RequestTimeouts {
                header: Duration::from_secs(20),
                keep_alive: Duration::from_secs(15),
            },
            min_body_rate: 500,
            body_grace: Duration::from_secs(20),
            pages: None,
        }
    }
}

/// What the endpoint shares with every request.
pub type Shared<P> = crate::Shared<HttpConfig, P>;

/// Accepts connections for as long as it is polled, within the caps of
/// `shared.config.limits` (past them: 503 and the connection closed).
pub async fn serve<P: Publish>(listener: TcpListener, shared: Arc<Shared<P>>) {
    let gate = Gate::new(
        LISTENER,
        shared.config.limits,
        shared.budget.for_connections(),
    );
    let refuser = Refuser::new(LISTENER, shared.config.tls.clone(), refusal_response);
    dmarcflow_listen::serve(listener, gate, refuser, move |tcp, peer| {
        let shared = shared.clone();
        async move { connection(tcp, peer.to_string(), &shared).await }
    })
    .await;
}

fn refusal_response(refusal: Refusal) -> String {
    let text = match refusal {
        Refusal::MaxConnections => "too many connections; try again later\n",
        Refusal::MaxConnectionsPerIp => "too many connections from your address; try again later\n",
        Refusal::Memory => "too busy; try again later\n",
    };
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 60\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{text}",
        text.len()
    )
}

/// One connection: the TLS handshake (bounded), then HTTP/1.1 requests
/// under the connection's clock.
async fn connection<P: Publish>(tcp: TcpStream, peer: String, shared: &Arc<Shared<P>>) {
    let config = &shared.config;
    let result = match &config.tls {
        Some(tls) => {
            let acceptor = TlsAcceptor::from(tls.clone());
            match dmarcflow_listen::tls::handshake(&acceptor, tcp, config.tls_handshake, LISTENER)
                .await
            {
                Ok(stream) => requests(stream, peer.clone(), shared).await,
                Err(e) => Err(e.to_string()),
            }
        }
        None => requests(tcp, peer.clone(), shared).await,
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, %peer, "https connection ended with an error");
    }
}

async fn requests<S, P>(stream: S, peer: String, shared: &Arc<Shared<P>>) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    P: Publish,
{
    let clock = RequestClock::start(shared.config.request);
    let io = ClockedIo::new(stream, clock.clone(), LISTENER);
    let service = {
        let shared = shared.clone();
        service_fn(move |request| {
            let shared = shared.clone();
            let peer = peer.clone();
            let clock = clock.clone();
            async move {
                clock.serving();
                let answer = handler::handle(request, &peer, &shared).await;
                clock.answered();
                answer
            }
        })
    };
    http1::Builder::new()
        .max_buf_size(MAX_HEAD_BYTES)
        // The clock bounds the head and the idle time instead.
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(io), service)
        .await
        .map_err(|e| e.to_string())
}
