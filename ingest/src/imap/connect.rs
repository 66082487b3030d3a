//! Opening a logged-in IMAP session: TCP, then implicit TLS, STARTTLS or
//! nothing, then LOGIN.

use std::pin::Pin;
use std::task::{Context, Poll};

use async_imap::imap_proto::{Response, Status};
use async_imap::{Client, Session};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::config::{ImapConfig, Security};
use super::ImapError;

/// The byte stream under a session: plain TCP or TLS over it.
#[derive(Debug)]
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

pub type ImapSession = Session<Conn>;

/// Connects and logs in, each step bounded by `config.timeout`.
pub async fn connect(config: &ImapConfig) -> Result<ImapSession, ImapError> {
    let tcp = timed(
        config,
        "connect",
        TcpStream::connect((config.host.as_str(), config.port)),
    )
    .await?
    .map_err(ImapError::Connect)?;
    let _ = tcp.set_nodelay(true);
    let client = match config.security {
        Security::Plain => greeted(config, Client::new(Conn::Plain(tcp))).await?,
        Security::Tls => greeted(config, Client::new(tls(config, tcp).await?)).await?,
        Security::StartTls => {
            let mut client = greeted(config, Client::new(Conn::Plain(tcp))).await?;
            timed(
                config,
                "STARTTLS",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await??;
            let Conn::Plain(tcp) = client.into_inner() else {
                return Err(ImapError::Protocol("STARTTLS over TLS".to_owned()));
            };
            // No greeting after STARTTLS (RFC 3501 6.2.1).
            Client::new(tls(config, tcp).await?)
        }
    };
    let login = client.login(&config.username, &config.password);
    match timed(config, "LOGIN", login).await? {
        Ok(session) => Ok(session),
        Err((e, _)) => Err(ImapError::Login(e.to_string())),
    }
}

async fn tls(config: &ImapConfig, tcp: TcpStream) -> Result<Conn, ImapError> {
    let name = ServerName::try_from(config.host.clone())
        .map_err(|e| ImapError::Tls(format!("{}: {e}", config.host)))?;
    let handshake = TlsConnector::from(config.tls.clone()).connect(name, tcp);
    let stream = timed(config, "TLS handshake", handshake)
        .await?
        .map_err(|e| ImapError::Tls(e.to_string()))?;
    Ok(Conn::Tls(Box::new(stream)))
}

/// Reads the server greeting (`* OK ...`); a `* BYE` or nothing is an error.
async fn greeted(config: &ImapConfig, mut client: Client<Conn>) -> Result<Client<Conn>, ImapError> {
    let greeting = timed(config, "greeting", client.read_response())
        .await?
        .map_err(ImapError::Connect)?;
    match greeting {
        Some(response) => match response.parsed() {
            Response::Data {
                status: Status::Ok | Status::PreAuth,
                ..
            } => Ok(client),
            other => Err(ImapError::Protocol(format!("greeting: {other:?}"))),
        },
        None => Err(ImapError::Protocol("closed before the greeting".to_owned())),
    }
}

/// Bounds one step by the configured timeout.
pub async fn timed<F: std::future::Future>(
    config: &ImapConfig,
    step: &'static str,
    future: F,
) -> Result<F::Output, ImapError> {
    tokio::time::timeout(config.timeout, future)
        .await
        .map_err(|_| ImapError::Timeout(step))
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
