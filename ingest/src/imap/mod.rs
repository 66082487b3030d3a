//! The IMAP source: watches mailboxes where rua/ruf reports are delivered.
//! `config` (server, TLS, what to do after the ack), `connect` (TCP, TLS or
//! STARTTLS, LOGIN), `round` (fetch what waits, parse, publish, then move
//! or flag) and `watch` (one connection per mailbox: rounds, then IDLE or
//! polling; reconnection with backoff).
//!
//! A message is moved or flagged only after the bus acknowledged every
//! report and dead letter it produced, so the mailbox itself is the resume
//! point: after a crash, an outage or a restart, whatever is still waiting
//! is read again (at least once; the sink's dedup removes the repeats).

mod config;
mod connect;
mod round;
mod watch;

use std::sync::Arc;

pub use config::{
    roots_from_pem, web_pki_roots, AfterAck, ImapConfig, Security, INVALID_KEYWORD,
    PROCESSED_KEYWORD,
};
pub use connect::{connect, Conn, ImapSession};

use dmarcflow_bus::BusError;
use dmarcflow_bus::Publish;

/// What every watcher of one account shares.
pub type Shared<P> = crate::Shared<ImapConfig, P>;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("connecting: {0}")]
    Connect(std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("login refused: {0}")]
    Login(String),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("unexpected server answer: {0}")]
    Protocol(String),
    #[error("timed out: {0}")]
    Timeout(&'static str),
    #[error("bus: {0}")]
    Bus(#[from] BusError),
    #[error("the parsing thread failed")]
    Parse,
}

impl ImapError {
    /// A short label for metrics.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Connect(_) => "connect",
            Self::Tls(_) => "tls",
            Self::Login(_) => "login",
            Self::Imap(_) => "imap",
            Self::Protocol(_) => "protocol",
            Self::Timeout(_) => "timeout",
            Self::Bus(_) => "bus",
            Self::Parse => "parse",
        }
    }
}

/// Watches every configured mailbox until `stop` turns true; a round under
/// way finishes first (its messages acknowledged and moved, or left).
pub async fn serve<P: Publish>(shared: Arc<Shared<P>>, stop: tokio::sync::watch::Receiver<bool>) {
    let mut watchers = tokio::task::JoinSet::new();
    for mailbox in shared.config.mailboxes.clone() {
        watchers.spawn(watch::watch(shared.clone(), mailbox, stop.clone()));
    }
    while watchers.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests;
