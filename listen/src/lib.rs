//! The network edge: what every listener of dmarcflow does before and
//! around its protocol. Data flows `ingest -> parse -> schemas -> bus ->
//! sink -> store`; the listeners of `ingest` (SMTP/LMTP, the HTTPS TLS-RPT
//! endpoint), and every listener added later (the MTA-STS policy host, an
//! authoritative DNS server), accept through this crate.
//!
//! A report receiver sits on the open internet by design, so no client
//! behaviour may end a listener or push the process past its memory:
//! - [`bind`] opens the socket with an accept queue sized for bursts.
//! - [`serve`] is the accept loop. An accept error (EMFILE, ENFILE,
//!   ENOBUFS, ECONNABORTED, ...) is counted, logged at most once a second,
//!   paused on and survived; it never ends the loop.
//! - [`Gate`] admits a connection within the caps (all connections, and
//!   per client address or IPv6 /64) and the memory budget (a fixed
//!   reservation per open connection); past them, [`Refuser`] tells the
//!   client in its protocol's words (SMTP 421, HTTP 503) from a bounded
//!   pool of refusals, and closes.
//! - [`certificates::SniCertificates`] chooses a certificate by the name
//!   a client asks for (one listener, several hosts), swappable at run time.
//! - [`tls::handshake`] bounds a TLS handshake in time, and
//!   [`RequestClock`] bounds a request/response connection's idle time
//!   and header read (the protocols bound their own reads beyond that).
//! - [`open_files::raise`] lifts the soft open-file limit to the hard one
//!   at start, and [`Limits::sized`] derives the default caps from it and
//!   from the budget.
//!
//! Metrics, all labelled by `listener`: `dmarcflow_listener_connections`
//! (open now), `dmarcflow_listener_accepted_total`,
//! `dmarcflow_listener_refused_total{reason}`,
//! `dmarcflow_listener_accept_errors_total{error}`,
//! `dmarcflow_listener_timeouts_total{phase}`.

mod accept;
mod bind;
pub mod budget;
pub mod certificates;
mod gate;
mod limits;
pub mod open_files;
mod refusal;
mod request_clock;
mod throttle;
pub mod tls;

pub use accept::serve;
pub use bind::bind;
pub use budget::{MemoryBudget, Reservation};
pub use gate::{Admission, Gate, Refusal};
pub use limits::Limits;
pub use refusal::Refuser;
pub use request_clock::{ClockedIo, RequestClock, RequestTimeouts};

/// Counts a connection closed because a peer was too slow in `phase`.
pub fn timed_out(listener: &'static str, phase: &'static str) {
    metrics::counter!("dmarcflow_listener_timeouts_total", "listener" => listener, "phase" => phase)
        .increment(1);
}

/// Runs `work` until `deadline`; past it, the timeout is counted in
/// `phase` and `work` fails with `TimedOut`.
pub async fn within<T>(
    deadline: tokio::time::Instant,
    listener: &'static str,
    phase: &'static str,
    work: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    match tokio::time::timeout_at(deadline, work).await {
        Ok(done) => done,
        Err(_) => {
            timed_out(listener, phase);
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{phase} timed out"),
            ))
        }
    }
}
