//! How the IMAP source connects and what it does with a message once the
//! bus has everything it held.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS before logging in (port 143).
    StartTls,
    /// No TLS at all: only for a server on the same host.
    Plain,
}

/// What happens to a message once every report and dead letter it produced
/// is acknowledged by the bus. Until then it stays where it is, so a crash
/// or an outage only ever leads to it being read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterAck {
    /// Messages that yielded at least one report go to `processed`, those
    /// that yielded only rejections to `invalid` (both created if missing).
    /// Every message in the watched mailbox is therefore unprocessed.
    Move { processed: String, invalid: String },
    /// Messages stay and get the keyword `$DmarcflowProcessed` or
    /// `$DmarcflowInvalid`; only messages with neither are read.
    Flag,
}

pub const PROCESSED_KEYWORD: &str = "$DmarcflowProcessed";
pub const INVALID_KEYWORD: &str = "$DmarcflowInvalid";

#[derive(Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The roots the server's certificate must chain to.
    pub tls: Arc<ClientConfig>,
    pub username: String,
    pub password: String,
    /// Watched mailboxes, one connection each.
    pub mailboxes: Vec<String>,
    pub after: AfterAck,
    /// Wait with IDLE when the server offers it; otherwise (or when false)
    /// poll every `poll_interval`.
    pub idle: bool,
    pub poll_interval: Duration,
    /// IDLE is restarted this often (RFC 2177: before 29 minutes).
    pub idle_timeout: Duration,
    /// Messages larger than this are not fetched: they are dead-lettered
    /// (reason `limit_exceeded`, no bytes) and moved or flagged as invalid.
    pub max_message_bytes: u64,
    /// Most bytes fetched and parsed in one round before the bus is awaited.
    pub batch_bytes: u64,
    /// Most messages in one round.
    pub batch_messages: usize,
    /// Longest wait for one IMAP command, and for the bus to acknowledge a round.
    pub timeout: Duration,
    /// Reconnection backoff: doubles from `backoff_min` up to `backoff_max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

/// Everything but the password.
impl std::fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("mailboxes", &self.mailboxes)
            .field("after", &self.after)
            .field("idle", &self.idle)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

impl ImapConfig {
    /// Implicit TLS on 993 trusting `tls` (see [`web_pki_roots`] and
    /// [`roots_from_pem`]), INBOX moved to `Archive/Processed` and
    /// `Archive/Invalid`.
    pub fn new(
        host: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
        tls: Arc<ClientConfig>,
    ) -> Self {
        Self {
            host: host.into(),
            port: 993,
            security: Security::Tls,
            tls,
            username: username.into(),
            password: password.into(),
            mailboxes: vec!["INBOX".to_owned()],
            after: AfterAck::Move {
                processed: "Archive/Processed".to_owned(),
                invalid: "Archive/Invalid".to_owned(),
            },
            idle: true,
            poll_interval: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(25 * 60),
            max_message_bytes: 50 << 20,
            batch_bytes: 32 << 20,
            batch_messages: 100,
            timeout: Duration::from_secs(120),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
        }
    }

    /// The mailboxes a move may target must not be watched themselves.
    pub fn check(&self) -> Result<(), String> {
        if self.mailboxes.is_empty() {
            return Err("imap: no mailboxes to watch".to_owned());
        }
        if let AfterAck::Move { processed, invalid } = &self.after {
            for target in [processed, invalid] {
                if self
                    .mailboxes
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(target))
                {
                    return Err(format!("imap: {target} is both watched and a move target"));
                }
            }
        }
        if self.batch_messages == 0 {
            return Err("imap: batch_messages must be at least 1".to_owned());
        }
        Ok(())
    }
}

fn client_config(roots: RootCertStore) -> std::io::Result<Arc<ClientConfig>> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The Mozilla roots (what public IMAP servers use).
pub fn web_pki_roots() -> std::io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    client_config(roots)
}

/// Trust only the certificates of a PEM file (a private CA, a self-signed server).
pub fn roots_from_pem(path: &Path) -> std::io::Result<Arc<ClientConfig>> {
    let certs: Vec<CertificateDer<'static>> =
        rustls_pemfile::certs(&mut std::io::BufReader::new(std::fs::File::open(path)?))
            .collect::<Result<_, _>>()?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("no certificate in {}", path.display()),
        ));
    }
    client_config(roots)
}
