//! A TLS handshake bounded in time: a client that opens TLS and never
//! finishes it (or does so a byte a minute) holds a connection and its
//! buffers for no more than the handshake timeout.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Completes the server side of a handshake within `limit`; a timeout is
/// counted (`phase="tls_handshake"`) and is an error of kind `TimedOut`.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    acceptor: &TlsAcceptor,
    stream: S,
    limit: Duration,
    listener: &'static str,
) -> std::io::Result<TlsStream<S>> {
    let deadline = tokio::time::Instant::now() + limit;
    crate::within(deadline, listener, "tls_handshake", acceptor.accept(stream)).await
}
