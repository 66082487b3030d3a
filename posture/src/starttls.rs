//! Each MX host as a sending MTA meets it (RFC 8461 4.2, RFC 3207): port
//! 25, the banner, EHLO, STARTTLS offered, the TLS handshake, and the
//! certificate judged against the same trust as policy fetches
//! ([`crate::trust`]) and the MX host's name, with its expiry.
//!
//! The handshake always completes (a recording verifier accepts any
//! certificate and keeps the real verdict), so an invalid certificate is
//! reported with its reason and dates instead of as a failed connection.
//! Bounded: one timeout for the whole conversation, a cap on each reply's
//! bytes, at most [`MAX_HOSTS`] hosts per domain, probed concurrently.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore,
    SignatureScheme,
};
use tokio_rustls::TlsConnector;

use crate::dns::{Dns, Lookup};
use crate::trust::TrustError;

/// MX hosts probed per domain (a hostile zone may list thousands).
pub const MAX_HOSTS: usize = 10;
/// One SMTP reply's bytes (RFC 5321 4.5.3.1.5 allows 512 per line; EHLO
/// lists a few dozen lines).
const MAX_REPLY: usize = 16 * 1024;
/// Certificates expiring within this many days are warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// What one MX host showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MxTls {
    /// The address probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Whether EHLO offered STARTTLS; None when the host was not reached.
    pub starttls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// Why the probe stopped short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    /// Valid for the MX host's name, by a trusted CA, today.
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Unix seconds (None when the certificate's dates cannot be read).
    pub not_after: Option<i64>,
    pub expires: Option<String>,
}

pub struct Smtp {
    verifier: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
    timeout: Duration,
    port: u16,
    helo: String,
}

impl Smtp {
    /// `port` is 25 but for tests; `helo` is the name this side gives.
    pub fn new(
        roots: Arc<RootCertStore>,
        timeout: Duration,
        port: u16,
        helo: &str,
    ) -> Result<Self, TrustError> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| TrustError::Tls(e.to_string()))?;
        Ok(Self {
            verifier,
            provider,
            timeout,
            port,
            helo: helo.to_owned(),
        })
    }

    /// Probes `host` (an MX host name) within the timeout.
    pub async fn probe(&self, dns: &impl Dns, host: &str) -> MxTls {
        let address = match dns.addresses(host).await {
            Lookup::Found(found) => found[0],
            Lookup::Absent => {
                return MxTls {
                    error: Some(format!("{host} has no address")),
                    ..MxTls::default()
                }
            }
            Lookup::Failed(why) => {
                return MxTls {
                    error: Some(format!("{host}: {why}")),
                    ..MxTls::default()
                }
            }
        };
        let mut seen = MxTls {
            address: Some(address.to_string()),
            ..MxTls::default()
        };
        let conversation = self.converse(address, host, &mut seen);
        match tokio::time::timeout(self.timeout, conversation).await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => seen.error = Some(why),
            Err(_) => {
                seen.error = Some(format!(
                    "no complete conversation within {:?}",
                    self.timeout
                ))
            }
        }
        seen
    }

    async fn converse(&self, address: IpAddr, host: &str, seen: &mut MxTls) -> Result<(), String> {
        let mut tcp = tokio::net::TcpStream::connect((address, self.port))
            .await
            .map_err(|e| format!("connecting to {address} port {}: {e}", self.port))?;
        let banner = reply(&mut tcp).await?;
        if banner.code != 220 {
            return Err(format!("the banner was {} {}", banner.code, banner.first()));
        }
        command(&mut tcp, &format!("EHLO {}", self.helo)).await?;
        let ehlo = reply(&mut tcp).await?;
        if ehlo.code != 250 {
            return Err(format!("EHLO was answered {} {}", ehlo.code, ehlo.first()));
        }
        let offered = ehlo.lines.iter().skip(1).any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
        });
        seen.starttls = Some(offered);
        if !offered {
            let _ = command(&mut tcp, "QUIT").await;
            return Ok(());
        }
        command(&mut tcp, "STARTTLS").await?;
        let ready = reply(&mut tcp).await?;
        if ready.code != 220 {
            return Err(format!(
                "STARTTLS was answered {} {}",
                ready.code,
                ready.first()
            ));
        }
        let recording = Arc::new(Recording {
            inner: self.verifier.clone(),
            seen: Mutex::new(None),
        });
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(recording.clone())
            .with_no_client_auth();
        let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("{host}: {e}"))?;
        let mut tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("the TLS handshake: {e}"))?;
        seen.tls_version = tls
            .get_ref()
            .1
            .protocol_version()
            .map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."));
        let recorded = recording.seen.lock().map(|mut s| s.take()).unwrap_or(None);
        if let Some((der, verdict)) = recorded {
            let not_after = crate::der::validity(&der).map(|(_, after)| after);
            seen.certificate = Some(Certificate {
                valid: verdict.is_ok(),
                problem: verdict.err(),
                not_after,
                expires: not_after.map(crate::date::ymd),
            });
        }
        let _ = command(&mut tls, "QUIT").await;
        Ok(())
    }
}

/// One SMTP reply: its code and its lines' texts.
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    fn first(&self) -> &str {
        self.lines.first().map_or("", String::as_str)
    }
}

async fn command(stream: &mut (impl AsyncWrite + Unpin), line: &str) -> Result<(), String> {
    stream
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| format!("sending {}: {e}", line.split(' ').next().unwrap_or(line)))
}

/// Reads one (possibly multi-line) reply byte by byte, so nothing after it
/// is consumed (the TLS handshake follows STARTTLS's reply on the same
/// stream), and at most [`MAX_REPLY`] bytes.
async fn reply(stream: &mut (impl AsyncRead + Unpin)) -> Result<Reply, String> {
    let mut lines = Vec::new();
    let mut line = Vec::new();
    let mut total = 0;
    loop {
        let byte = stream
            .read_u8()
            .await
            .map_err(|e| format!("reading a reply: {e}"))?;
        total += 1;
        if total > MAX_REPLY {
            return Err(format!("a reply over {MAX_REPLY} bytes"));
        }
        if byte != b'\n' {
            line.push(byte);
            continue;
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches('\r')
            .to_owned();
        line.clear();
        let code = text
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| {
                format!(
                    "not an SMTP reply: {:?}",
                    text.chars().take(40).collect::<String>()
                )
            })?;
        let last = text.as_bytes().get(3) != Some(&b'-');
        lines.push(text.get(4..).unwrap_or("").to_owned());
        if last {
            return Ok(Reply { code, lines });
        }
    }
}

/// Accepts every certificate so the handshake completes, keeping the end
/// entity and what the web PKI verifier said of it.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<Option<Verdict>>,
}

/// The end entity's DER, and Ok or why it is not valid.
type Verdict = (Vec<u8>, Result<(), String>);

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ())
            .map_err(|e| describe(&e, server_name));
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((end_entity.to_vec(), verdict));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The verifier's error as a finding says it.
fn describe(error: &TlsError, name: &ServerName<'_>) -> String {
    match error {
        TlsError::InvalidCertificate(why) => match why {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not valid yet".to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("not valid for {}", name.to_str())
            }
            CertificateError::UnknownIssuer => {
                "issued by an untrusted CA (or self-signed)".to_owned()
            }
            CertificateError::Revoked => "revoked".to_owned(),
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    }
}

/// The findings of the probes of `mx`, given the MTA-STS mode senders
/// apply: under `enforce` a host they cannot verify gets no mail from them
/// (critical), under `testing` they report it (warning); without a policy
/// senders deliver over any TLS, or none, so a bad certificate is noted
/// only (info). `now` is Unix seconds.
pub fn findings(
    mx: &[crate::mx::Mx],
    mode: Option<&str>,
    now: i64,
    findings: &mut Vec<crate::finding::Finding>,
) {
    use crate::finding::{Finding, Severity};
    let strict = match mode {
        Some("enforce") => Severity::Critical,
        Some("testing") => Severity::Warning,
        _ => Severity::Info,
    };
    for host in mx {
        let Some(tls) = &host.tls else { continue };
        let name = &host.host;
        match (tls.starttls, &tls.certificate) {
            (None, _) => findings.push(Finding::info(
                "mx.unreachable",
                format!(
                    "{name} could not be reached on port 25 from here ({}): its STARTTLS was not checked",
                    tls.error.as_deref().unwrap_or("no answer")
                ),
            )),
            (Some(false), _) => findings.push(Finding::new(
                "mx.starttls_missing",
                strict.max(Severity::Warning),
                format!("{name} does not offer STARTTLS: mail to it travels in clear text"),
            )),
            (Some(true), None) => findings.push(Finding::new(
                "mx.tls_failed",
                strict.max(Severity::Warning),
                format!(
                    "{name} offers STARTTLS but the TLS handshake failed: {}",
                    tls.error.as_deref().unwrap_or("no certificate")
                ),
            )),
            (Some(true), Some(cert)) => {
                if let Some(problem) = &cert.problem {
                    findings.push(Finding::new(
                        "mx.certificate_invalid",
                        strict,
                        format!("{name}'s certificate is {problem}: senders that verify (MTA-STS, DANE) do not deliver to it"),
                    ));
                } else if let Some(after) = cert.not_after {
                    let days = (after - now).div_euclid(86_400);
                    if days < EXPIRY_WARNING_DAYS {
                        findings.push(Finding::warning(
                            "mx.certificate_expiring",
                            format!(
                                "{name}'s certificate expires on {} (in {days} days): renew it",
                                crate::date::ymd(after)
                            ),
                        ));
                    }
                }
            }
        }
    }
}
