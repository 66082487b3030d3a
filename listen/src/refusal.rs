//! Saying no: a connection past its listener's caps is told so in its
//! protocol's words (SMTP `421 4.7.0`, HTTP 503) and closed. A refusal
//! holds a file descriptor until it is said, so refusals in flight are a
//! bounded pool of [`SLOTS`], each with [`REFUSAL_TIME`] to be said (the
//! TLS handshake first, for a listener that speaks TLS from the first
//! byte); past the pool, the connection is closed unanswered. Both are
//! counted in `dmarcflow_listener_refused_total{listener, reason}`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::throttle::Throttle;
use crate::Refusal;

/// Refusals a listener has in flight at once.
pub const SLOTS: usize = 32;
/// How long one refusal may take, handshake and lingering close included.
const REFUSAL_TIME: Duration = Duration::from_secs(2);
/// What is read and dropped after the answer, so that a client that had
/// already sent its request reads the answer instead of a reset.
const LINGER_BYTES: usize = 64 << 10;

pub struct Refuser {
    listener: &'static str,
    /// The answer for each [`Refusal`], in its order.
    answers: [Arc<[u8]>; 3],
    tls: Option<TlsAcceptor>,
    slots: Arc<Semaphore>,
    log: Throttle,
}

impl Refuser {
    /// A refuser for `listener` answering with `answer` (over TLS with
    /// `tls`, for a listener that speaks TLS from the first byte).
    pub fn new(
        listener: &'static str,
        tls: Option<Arc<ServerConfig>>,
        answer: impl Fn(Refusal) -> String,
    ) -> Self {
        let of = |refusal| Arc::from(answer(refusal).into_bytes().into_boxed_slice());
        Self {
            listener,
            answers: [
                of(Refusal::MaxConnections),
                of(Refusal::MaxConnectionsPerIp),
                of(Refusal::Memory),
            ],
            tls: tls.map(TlsAcceptor::from),
            slots: Arc::new(Semaphore::new(SLOTS)),
            log: Throttle::default(),
        }
    }

    /// The answer for `refusal`.
    fn answer(&self, refusal: Refusal) -> &[u8] {
        let i = match refusal {
            Refusal::MaxConnections => 0,
            Refusal::MaxConnectionsPerIp => 1,
            Refusal::Memory => 2,
        };
        &self.answers[i]
    }

    /// Counts the refusal and says it (in a task of its own) when a slot
    /// is free; otherwise closes the connection at once.
    pub fn refuse(&self, tcp: TcpStream, peer: SocketAddr, refusal: Refusal) {
        let reason = refusal.reason();
        metrics::counter!("dmarcflow_listener_refused_total", "listener" => self.listener, "reason" => reason)
            .increment(1);
        if let Some(more) = self.log.ready() {
            tracing::warn!(
                listener = self.listener,
                reason,
                %peer,
                refused_before = more,
                "refusing a connection past the listener's cap ({reason}); {more} more refused since the last line"
            );
        }
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            return;
        };
        let answer = self.answer(refusal).to_vec();
        let tls = self.tls.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REFUSAL_TIME, say(tcp, tls, answer)).await;
            drop(slot);
        });
    }
}

async fn say(tcp: TcpStream, tls: Option<TlsAcceptor>, answer: Vec<u8>) -> std::io::Result<()> {
    match tls {
        Some(acceptor) => write_and_close(acceptor.accept(tcp).await?, &answer).await,
        None => write_and_close(tcp, &answer).await,
    }
}

async fn write_and_close<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    answer: &[u8],
) -> std::io::Result<()> {
    stream.write_all(answer).await?;
    stream.shutdown().await?;
    let mut sink = [0u8; 4096];
    let mut read = 0;
    while read < LINGER_BYTES {
        match stream.read(&mut sink).await? {
            0 => break,
            n => read += n,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_answer_is_said_and_the_connection_closed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let refuser = Refuser::new("test", None, |r| format!("421 4.7.0 {}\r\n", r.reason()));
        let client = tokio::spawn(async move {
            let mut tcp = TcpStream::connect(address)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut answer = String::new();
            let _ = tcp.read_to_string(&mut answer).await;
            answer
        });
        let (tcp, peer) = listener.accept().await.unwrap_or_else(|e| panic!("{e}"));
        refuser.refuse(tcp, peer, Refusal::MaxConnectionsPerIp);
        let answer = client.await.unwrap_or_default();
        assert_eq!(answer, "421 4.7.0 max_connections_per_ip\r\n");
    }
}
