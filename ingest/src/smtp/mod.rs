//! The SMTP/LMTP listener a domain's MX (or a local MTA over LMTP) points
//! rua/ruf mail at: `config` (allow-list, size, TLS), `session` (one
//! conversation; 250 only once the bus has the message), and `serve` (the
//! accept loop with STARTTLS).

mod config;
mod session;

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

pub use config::{tls_from_pem, SmtpConfig, SmtpTimeouts, CONNECTION_RESERVE};
pub use session::Shared;

use dmarcflow_bus::Publish;
use dmarcflow_listen::{Gate, Refusal, Refuser};
use session::{session, Clock, End};

/// The `listener` label of this listener's metrics.
pub const LISTENER: &str = "smtp";

/// Accepts connections for as long as it is polled, within the caps of
/// `shared.config.limits` (past them: `421 4.7.0` and the connection
/// closed); each conversation runs in its own task.
pub async fn serve<P: Publish>(listener: TcpListener, shared: Arc<Shared<P>>) {
    let gate = Gate::new(
        LISTENER,
        shared.config.limits,
        shared.budget.for_connections(),
    );
    let host = shared.config.hostname.clone();
    let refuser = Refuser::new(LISTENER, None, move |refusal| refusal_reply(&host, refusal));
    dmarcflow_listen::serve(listener, gate, refuser, move |tcp, peer| {
        let shared = shared.clone();
        async move { conversation(tcp, &peer.to_string(), &shared).await }
    })
    .await;
}

/// What a client past a cap is told before the connection is closed
/// (RFC 5321 3.8: a server may answer 421 at once and close).
fn refusal_reply(host: &str, refusal: Refusal) -> String {
    let why = match refusal {
        Refusal::MaxConnections => "Too many connections",
        Refusal::MaxConnectionsPerIp => "Too many connections from your address",
        Refusal::Memory => "Too busy",
    };
    format!("421 4.7.0 {host} {why}, try again later\r\n")
}

/// One connection: the conversation, STARTTLS and its second half, all
/// within the session's time.
async fn conversation<P: Publish>(tcp: TcpStream, peer: &str, shared: &Arc<Shared<P>>) {
    let config = &shared.config;
    let clock = Clock::start(&config.timeouts);
    let talk = async {
        match session(tcp, false, peer, shared, clock).await? {
            End::StartTls(tcp) => match &config.tls {
                Some(tls) => {
                    let acceptor = TlsAcceptor::from(tls.clone());
                    let limit = config.timeouts.tls_handshake;
                    let stream =
                        dmarcflow_listen::tls::handshake(&acceptor, tcp, limit, LISTENER).await?;
                    session(stream, true, peer, shared, clock).await.map(|_| ())
                }
                None => Ok(()),
            },
            End::Closed => Ok(()),
        }
    };
    // The reads are bounded by the clock; this bounds the rest (a client
    // that never reads its replies) at the same end, with a moment for a
    // delivery under way to be answered.
    let result = dmarcflow_listen::within(clock.hard_end(), LISTENER, "session", talk).await;
    if let Err(e) = result {
        tracing::debug!(error = %e, %peer, "smtp session ended with an error");
    }
}

#[cfg(test)]
mod tests;
