//! The HTTPS endpoint for SMTP TLS reports (RFC 8460 section 3): a POST of
//! `application/tlsrpt+gzip` or `application/tlsrpt+json`. `handler` reads
//! one request (size limit, content type) and answers 200 only once the
//! report (or the dead letter saying why it is none) is on the bus;
//! `serve` is the accept loop (TLS when configured).

mod handler;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use dmarcflow_bus::Publish;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Serve HTTPS with this certificate (plain HTTP without, e.g. behind a
    /// TLS-terminating proxy).
    pub tls: Option<Arc<ServerConfig>>,
    /// How long a report may wait for the bus before the answer is 503.
    pub bus_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 << 20,
            tls: None,
            bus_timeout: Duration::from_secs(30),
        }
    }
}

/// What the endpoint shares with every request.
pub type Shared<P> = crate::Shared<HttpConfig, P>;

/// Accepts connections until the listener fails.
pub async fn serve<P: Publish>(
    listener: TcpListener,
    shared: Arc<Shared<P>>,
) -> std::io::Result<()> {
    loop {
        let (tcp, peer) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let peer = peer.to_string();
            let service = {
                let shared = shared.clone();
                let peer = peer.clone();
                service_fn(move |request| {
                    let shared = shared.clone();
                    let peer = peer.clone();
                    async move { handler::handle(request, &peer, &shared).await }
                })
            };
            let result = match &shared.config.tls {
                Some(tls) => match TlsAcceptor::from(tls.clone()).accept(tcp).await {
                    Ok(stream) => http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                },
                None => http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await
                    .map_err(|e| e.to_string()),
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "https connection ended with an error");
            }
        });
    }
}
