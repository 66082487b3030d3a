//! A small SMTP client over STARTTLS for the load test: one connection,
//! many messages, the time from the end of each message's data to its
//! answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// Any single reply taking longer than this is a hanging connection.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

pub type Io = Box<dyn Stream>;
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A TLS client trusting only `ca` (the listener's self-signed certificate).
pub fn tls(ca: &[u8]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.to_vec()))
        .unwrap_or_else(|e| panic!("{e}"));
    let config = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap_or_else(|e| panic!("{e}"))
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

pub struct Client {
    io: BufReader<Io>,
}

/// What the server answered to a message.
#[derive(Debug)]
pub struct Answer {
    pub code: u16,
    pub text: String,
    /// From the end of the data to the answer (None: refused at DATA).
    pub latency: Option<Duration>,
}

impl Client {
    /// Connects, says EHLO, upgrades with STARTTLS and says EHLO again.
    pub async fn connect(port: u16, tls: &TlsConnector) -> std::io::Result<Self> {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        tcp.set_nodelay(true)?;
        let mut plain = Self {
            io: BufReader::new(Box::new(tcp) as Io),
        };
        plain.expect(220).await?;
        let (_, caps) = plain.command("EHLO load.example").await?;
        if !caps.contains("STARTTLS") {
            return Err(other(format!("no STARTTLS offered: {caps}")));
        }
        let (code, text) = plain.command("STARTTLS").await?;
        if code != 220 {
            return Err(other(format!("STARTTLS: {code} {text}")));
        }
        let tcp = plain.io.into_inner();
        let name = ServerName::try_from("localhost").map_err(|e| other(e.to_string()))?;
        let stream = tls.connect(name, tcp).await?;
        let mut secure = Self {
            io: BufReader::new(Box::new(stream) as Io),
        };
        let (code, text) = secure.command("EHLO load.example").await?;
        if code != 250 {
            return Err(other(format!("EHLO: {code} {text}")));
        }
        Ok(secure)
    }

    /// Sends one message; the answer to its data (or to DATA).
    pub async fn send(&mut self, message: &[u8]) -> std::io::Result<Answer> {
        for (line, want) in [
            ("MAIL FROM:<reports@load.example>", 250),
            ("RCPT TO:<dmarc@example.com>", 250),
        ] {
            let (code, text) = self.command(line).await?;
            if code != want {
                return Err(other(format!("{line}: {code} {text}")));
            }
        }
        let (code, text) = self.command("DATA").await?;
        if code != 354 {
            return Ok(Answer {
                code,
                text,
                latency: None,
            });
        }
        let mut data = dot_stuffed(message);
        data.extend_from_slice(b".\r\n");
        let stream = self.io.get_mut();
        stream.write_all(&data).await?;
        stream.flush().await?;
        let sent = Instant::now();
        let (code, text) = self.reply().await?;
        Ok(Answer {
            code,
            text,
            latency: Some(sent.elapsed()),
        })
    }

    /// QUIT, and the server closes the connection.
    pub async fn quit(mut self) -> std::io::Result<()> {
        let (code, text) = self.command("QUIT").await?;
        if code != 221 {
            return Err(other(format!("QUIT: {code} {text}")));
        }
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(REPLY_TIMEOUT, self.io.read_until(b'\n', &mut rest)).await;
        match closed {
            Ok(Ok(0)) | Ok(Err(_)) => Ok(()),
            _ => Err(other("the server did not close after QUIT".into())),
        }
    }

    async fn command(&mut self, line: &str) -> std::io::Result<(u16, String)> {
        let stream = self.io.get_mut();
        stream.write_all(format!("{line}\r\n").as_bytes()).await?;
        stream.flush().await?;
        self.reply().await
    }

    async fn expect(&mut self, code: u16) -> std::io::Result<()> {
        let (got, text) = self.reply().await?;
        if got != code {
            return Err(other(format!("expected {code}, got {got} {text}")));
        }
        Ok(())
    }

    /// One reply, all its lines.
    async fn reply(&mut self) -> std::io::Result<(u16, String)> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(REPLY_TIMEOUT, self.io.read_line(&mut line))
                .await
                .map_err(|_| other("no reply: the connection hangs".into()))??;
            if n == 0 {
                return Err(other(format!("connection closed after {text:?}")));
            }
            let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            text.push_str(line.trim_end());
            text.push('\n');
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, text));
            }
        }
    }
}

/// The message with CRLF line ends, leading dots doubled, ending in CRLF.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 50);
    for line in message.split_inclusive(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn other(message: String) -> std::io::Error {
    std::io::Error::other(message)
}
