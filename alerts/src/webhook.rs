//! Webhooks: an HTTP(S) POST of a JSON body (TLS by rustls with the
//! webpki roots), answered 2xx within the timeout. What the body says is
//! [`crate::notify`]'s.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{AlertError, Webhook};

pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// POSTs a JSON body to a webhook; an answer other than 2xx within the
/// timeout is an error.
pub async fn post_json(webhook: &Webhook, body: &str) -> Result<(), AlertError> {
    let failed = |message: String| AlertError::Webhook {
        url: webhook.url.clone(),
        message,
    };
    let url = Url::parse(&webhook.url).ok_or_else(|| failed("not an http(s) URL".into()))?;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nUser-Agent: dmarcflow\r\nConnection: close\r\n\r\n{body}",
        url.path,
        url.host,
        body.len()
    );
    let exchange = async {
        let tcp = TcpStream::connect((url.host.as_str(), url.port)).await?;
        if url.tls {
            let mut roots = tokio_rustls::rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let config = tokio_rustls::rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(url.host.clone())
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await?;
            post(stream, &request).await
        } else {
            post(tcp, &request).await
        }
    };
    let status = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| failed("no answer within 10 s".into()))?
        .map_err(|e| failed(e.to_string()))?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(failed(format!("answered {status}")))
    }
}

/// Sends the request, returns the answer's status code.
async fn post<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &str,
) -> std::io::Result<u16> {
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    // The status line is enough; a webhook's answer is small anyway.
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 8192 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::other(format!("not an HTTP answer: {:?}", line.lines().next()))
        })
}

/// What a webhook URL says.
#[derive(Debug, PartialEq, Eq)]
struct Url {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

impl Url {
    fn parse(text: &str) -> Option<Url> {
        let (tls, rest) = if let Some(r) = text.strip_prefix("https://") {
            (true, r)
        } else {
            (false, text.strip_prefix("http://")?)
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h.trim_matches(['[', ']']), p.parse().ok()?)
            }
            _ => (authority, if tls { 443 } else { 80 }),
        };
        (!host.is_empty()).then(|| Url {
            tls,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            Url::parse("https://hooks.slack.com/services/T/B/x"),
            Some(Url {
                tls: true,
                host: "hooks.slack.com".into(),
                port: 443,
                path: "/services/T/B/x".into()
            })
        );
        assert_eq!(
            Url::parse("http://127.0.0.1:8080").map(|u| (u.port, u.path)),
            Some((8080, "/".into()))
        );
        assert_eq!(Url::parse("ftp://x"), None);
    }
}
