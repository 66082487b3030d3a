//! The accept loop every listener runs. It never ends on an error: what
//! `accept` fails with is about one connection (ECONNABORTED: the client
//! left before it was accepted) or about the process for a moment (EMFILE,
//! ENFILE: no file descriptor free; ENOBUFS, ENOMEM: the kernel's memory),
//! and a listener that stops on either is down until someone restarts the
//! process. So an error is counted, logged at most once a second, and
//! followed by a pause that lets connections close (for the process's
//! resources) or by the next accept at once (for a connection's own).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::throttle::Throttle;
use crate::{Gate, Refuser};

/// The pause after an error that says the process is out of something.
const RESOURCE_PAUSE: Duration = Duration::from_millis(100);
/// The pause after an error this loop does not know.
const UNKNOWN_PAUSE: Duration = Duration::from_millis(10);

/// Accepts connections for as long as it is polled: each one admitted by
/// `gate` is served by `handle` in a task of its own, which holds the
/// connection's [`Admission`](crate::Admission) until `handle` is done;
/// the others are refused by `refuser`.
pub async fn serve<H, F>(listener: TcpListener, gate: Arc<Gate>, refuser: Refuser, handle: H)
where
    H: Fn(TcpStream, SocketAddr) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let name = gate.listener();
    let errors = Throttle::default();
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                metrics::counter!("dmarcflow_listener_accepted_total", "listener" => name)
                    .increment(1);
                // Replies are small and each waits for the client (an SMTP
                // reply, an HTTP answer, a refusal): never delay one.
                let _ = tcp.set_nodelay(true);
                match gate.admit(peer.ip()) {
                    Ok(admission) => {
                        let served = handle(tcp, peer);
                        tokio::spawn(async move {
                            served.await;
                            drop(admission);
                        });
                    }
                    Err(refusal) => refuser.refuse(tcp, peer, refusal),
                }
            }
            Err(e) => {
                let (error, pause) = classify(&e);
                metrics::counter!("dmarcflow_listener_accept_errors_total", "listener" => name, "error" => error)
                    .increment(1);
                if let Some(more) = errors.ready() {
                    tracing::warn!(
                        listener = name,
                        error,
                        open = gate.open(),
                        errors_before = more,
                        "accept failed: {e}; pausing {} ms and going on ({more} more errors since the last line)",
                        pause.as_millis()
                    );
                }
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

/// The `error` label of an accept error, and the pause after it.
fn classify(e: &std::io::Error) -> (&'static str, Duration) {
    let Some(code) = e.raw_os_error() else {
        return ("other", UNKNOWN_PAUSE);
    };
    match code {
        libc::EMFILE => ("EMFILE", RESOURCE_PAUSE),
        libc::ENFILE => ("ENFILE", RESOURCE_PAUSE),
        libc::ENOBUFS => ("ENOBUFS", RESOURCE_PAUSE),
        libc::ENOMEM => ("ENOMEM", RESOURCE_PAUSE),
        libc::ECONNABORTED => ("ECONNABORTED", Duration::ZERO),
        libc::ECONNRESET => ("ECONNRESET", Duration::ZERO),
        libc::EPROTO => ("EPROTO", Duration::ZERO),
        libc::EPERM => ("EPERM", Duration::ZERO),
        libc::EINTR => ("EINTR", Duration::ZERO),
        libc::ETIMEDOUT => ("ETIMEDOUT", Duration::ZERO),
        libc::ENETUNREACH | libc::EHOSTUNREACH | libc::ENETDOWN | libc::EHOSTDOWN => {
            ("ENETUNREACH", Duration::ZERO)
        }
        _ => ("other", UNKNOWN_PAUSE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_named_and_paused_on_by_what_they_say() {
        let of = |code| classify(&std::io::Error::from_raw_os_error(code));
        assert_eq!(of(libc::EMFILE), ("EMFILE", RESOURCE_PAUSE));
        assert_eq!(of(libc::ENFILE), ("ENFILE", RESOURCE_PAUSE));
        assert_eq!(of(libc::ENOBUFS), ("ENOBUFS", RESOURCE_PAUSE));
        assert_eq!(of(libc::ECONNABORTED), ("ECONNABORTED", Duration::ZERO));
        assert_eq!(of(libc::EXDEV), ("other", UNKNOWN_PAUSE));
        let custom = std::io::Error::other("no code");
        assert_eq!(classify(&custom), ("other", UNKNOWN_PAUSE));
    }
}
