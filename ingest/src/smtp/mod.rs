//! The SMTP/LMTP listener a domain's MX (or a local MTA over LMTP) points
//! rua/ruf mail at: `config` (allow-list, size, TLS), `session` (one
//! conversation; 250 only once the bus has the message), and `serve` (the
//! accept loop with STARTTLS).

mod config;
mod session;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use config::{tls_from_pem, SmtpConfig};
pub use session::Shared;

use dmarcflow_bus::Publish;
use session::{session, End};

/// Accepts connections until the listener fails; each conversation runs in
/// its own task.
pub async fn serve<P: Publish>(
    listener: TcpListener,
    shared: Arc<Shared<P>>,
) -> std::io::Result<()> {
    loop {
        let (tcp, peer) = listener.accept().await?;
        // Replies are small and each waits for the client: never delay one.
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let peer = peer.to_string();
            let result = match session(tcp, false, &peer, &shared).await {
                Ok(End::StartTls(tcp)) => match &shared.config.tls {
                    Some(tls) => match TlsAcceptor::from(tls.clone()).accept(tcp).await {
                        Ok(stream) => session(stream, true, &peer, &shared).await.map(|_| ()),
                        Err(e) => Err(e),
                    },
                    None => Ok(()),
                },
                Ok(End::Closed) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "smtp session ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests;
