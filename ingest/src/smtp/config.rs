//! How the SMTP/LMTP listener behaves.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dmarcflow_listen::Limits;

use tokio_rustls::rustls::ServerConfig;

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The name in the greeting and EHLO reply.
    pub hostname: String,
    /// Speak LMTP (LHLO, a reply per recipient) instead of SMTP.
    pub lmtp: bool,
    /// Largest message accepted (also announced as SIZE).
    pub max_message_bytes: usize,
    /// Recipients accepted: `user@domain`, or `@domain` / `domain` for a
    /// whole domain. Empty accepts every recipient.
    pub allowed_recipients: Vec<String>,
    /// Offer STARTTLS with this certificate.
    pub tls: Option<Arc<ServerConfig>>,
    /// Refuse mail before STARTTLS.
    pub require_tls: bool,
    /// How long a message may wait for the bus before the answer is 451
    /// (the sender retries; a late delivery is absorbed by the sink's dedup).
    pub bus_timeout: std::time::Duration,
    /// Connections held at once, in all and per client address.
    pub limits: Limits,
    pub timeouts: SmtpTimeouts,
}

/// How long a client may take (RFC 5321 section 4.5.3.2: the server waits
/// at least 5 minutes for a command, the client 3 minutes for each data
/// block to be taken), and a cap on a whole conversation so that a client
/// trickling a byte per minute cannot hold a connection for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpTimeouts {
    /// For the next command line (4.5.3.2.7: at least 5 minutes).
    pub command: Duration,
    /// For each piece of message data after DATA (4.5.3.2.5: 3 minutes).
    pub data: Duration,
    /// For the whole conversation, STARTTLS and every message included.
    pub session: Duration,
    /// For the TLS handshake after STARTTLS.
    pub tls_handshake: Duration,
}

impl Default for SmtpTimeouts {
    fn default() -> Self {
        Self {
            command: Duration::from_secs(300),
            data: Duration::from_secs(180),
            session: Duration::from_secs(1800),
            tls_handshake: Duration::from_secs(30),
        }
    }
}

/// What an idle SMTP connection holds at most, reserved from the memory
/// budget for as long as it is open: the read buffer (8 KiB), a command
/// line (4 KiB), and rustls's record buffers after STARTTLS (about 34 KiB
/// in and out), rounded up. The message itself is reserved apart.
pub const CONNECTION_RESERVE: u64 = 64 << 10;

impl SmtpConfig {
    pub fn new(hostname: impl Into<String>) -> Self {
        Self {
            hostname: hostname.into(),
            lmtp: false,
            max_message_bytes: 50 << 20,
            allowed_recipients: Vec::new(),
            tls: None,
            require_tls: false,
            bus_timeout: std::time::Duration::from_secs(30),
            limits: Limits::defaults(CONNECTION_RESERVE),
            timeouts: SmtpTimeouts::default(),
        }
    }

    /// Whether a recipient address is accepted.
    pub fn accepts(&self, address: &str) -> bool {
        if self.allowed_recipients.is_empty() {
            return true;
        }
        let address = address.to_ascii_lowercase();
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        self.allowed_recipients.iter().any(|allowed| {
            let allowed = allowed.to_ascii_lowercase();
            match allowed.strip_prefix('@') {
                Some(d) => d == domain,
                None if allowed.contains('@') => allowed == address,
                None => allowed == domain,
            }
        })
    }
}

/// A TLS configuration from PEM files: the certificate chain and its key.
pub fn tls_from_pem(cert: &Path, key: &Path) -> std::io::Result<Arc<ServerConfig>> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(std::fs::File::open(cert)?))
        .collect::<Result<Vec<_>, _>>()?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(std::fs::File::open(key)?))?
        .ok_or_else(|| invalid(format!("no private key in {}", key.display())))?;
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| invalid(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| invalid(e.to_string()))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    #[test]
    fn allow_list() {
        let mut c = super::SmtpConfig::new("mx");
        assert!(c.accepts("anyone@anywhere"));
        c.allowed_recipients = vec![
            "dmarc@example.com".into(),
            "@reports.example".into(),
            "tls.example".into(),
        ];
        assert!(c.accepts("DMARC@Example.com"));
        assert!(c.accepts("x@reports.example"));
        assert!(c.accepts("y@tls.example"));
        assert!(!c.accepts("other@example.com"));
        assert!(!c.accepts("x@sub.reports.example"));
    }
}
