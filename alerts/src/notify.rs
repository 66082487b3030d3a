//! Notifications: an HTTP(S) POST of JSON to each configured webhook, the
//! generic form (every field of the transition) or Slack-compatible text
//! (`{"text": ...}`, which Slack's and Mattermost's incoming webhooks
//! take). A webhook answers 2xx within the timeout or the round fails
//! (and its notifications are sent again by the next round).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{AlertError, Email, EmailTls, Transition, Webhook, WebhookFormat};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The body a webhook gets for one transition.
pub fn body(format: WebhookFormat, t: &Transition) -> String {
    let value = match format {
        WebhookFormat::Json => serde_json::json!({
            "status": t.status.as_str(),
            "rule": t.rule,
            "domain": t.domain,
            "subject": t.subject,
            "message": t.message,
            "value": t.value,
            "since": t.since,
            "source": "dmarcflow",
        }),
        WebhookFormat::Slack => {
            let mark = match t.status {
                crate::state::Status::Firing => ":rotating_light: FIRING",
                crate::state::Status::Resolved => ":white_check_mark: RESOLVED",
            };
            serde_json::json!({"text": format!("{mark} [{}] {}", t.rule, t.message)})
        }
    };
    value.to_string()
}

pub async fn send(webhook: &Webhook, t: &Transition) -> Result<(), AlertError> {
    let failed = |message: String| AlertError::Webhook {
        url: webhook.url.clone(),
        message,
    };
    let url = Url::parse(&webhook.url).ok_or_else(|| failed("not an http(s) URL".into()))?;
    let body = body(webhook.format, t);
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

/// The subject line of a transition's e-mail.
pub fn subject(t: &Transition) -> String {
    let status = match t.status {
        crate::state::Status::Firing => "FIRING",
        crate::state::Status::Resolved => "RESOLVED",
    };
    let what = if t.subject.is_empty() {
        String::new()
    } else {
        format!(": {}", t.subject)
    };
    format!("[dmarcflow] {status} {} {}{what}", t.rule, t.domain)
}

/// Mails a transition through the relay.
pub async fn mail(email: &Email, t: &Transition) -> Result<(), AlertError> {
    let body = format!(
        "{}\n\nstatus: {}\nrule: {}\ndomain: {}\nsubject: {}\nvalue: {}\nsince (Unix seconds): {}\n\n-- \ndmarcflow alerts\n",
        t.message,
        t.status.as_str(),
        t.rule,
        t.domain,
        t.subject,
        t.value,
        t.since
    );
    send_mail(email, &subject(t), body, None).await
}

/// A file attached to a mail: its name, media type and bytes.
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One message through the relay to the configured recipients (the
/// scheduled reports send theirs with this too).
pub async fn send_mail(
    email: &Email,
    subject: &str,
    body: String,
    attachment: Option<Attachment>,
) -> Result<(), AlertError> {
    use lettre::message::{header::ContentType, MultiPart, SinglePart};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let failed = |message: String| AlertError::Email {
        relay: email.relay.clone(),
        message,
    };
    let mut builder = Message::builder()
        .from(
            email
                .from
                .parse()
                .map_err(|e| failed(format!("from: {e}")))?,
        )
        .subject(subject);
    for to in &email.to {
        builder = builder.to(to.parse().map_err(|e| failed(format!("to {to}: {e}")))?);
    }
    let message = match attachment {
        None => builder.body(body),
        Some(a) => {
            let kind = ContentType::parse(&a.content_type).map_err(|e| failed(e.to_string()))?;
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body))
                    .singlepart(lettre::message::Attachment::new(a.name).body(a.bytes, kind)),
            )
        }
    }
    .map_err(|e| failed(e.to_string()))?;
    let (host, port) = match email.relay.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| failed("the port".into()))?),
        None => (email.relay.as_str(), 25),
    };
    let transport = match email.tls {
        EmailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        EmailTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| failed(e.to_string()))?,
        EmailTls::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| failed(e.to_string()))?
        }
    }
    .port(port)
    .timeout(Some(TIMEOUT));
    let transport = match (&email.user, &email.password) {
        (Some(user), Some(password)) => {
            transport.credentials(lettre::transport::smtp::authentication::Credentials::new(
                user.clone(),
                password.clone(),
            ))
        }
        _ => transport,
    };
    transport
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| failed(e.to_string()))
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
