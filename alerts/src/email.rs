//! E-mail through the configured SMTP relay (lettre): plain text, with
//! an optional attachment (the scheduled reports send theirs with this).

use crate::webhook::TIMEOUT;
use crate::{AlertError, Email, EmailTls};

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
    let from: lettre::message::Mailbox = email
        .from
        .parse()
        .map_err(|e| failed(format!("from: {e}")))?;
    let mut builder = Message::builder()
        .message_id(Some(message_id(from.email.domain())))
        .from(from)
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

/// A Message-ID unique to this process and moment, in the sender's domain
/// (relays and filters frown on mail without one).
fn message_id(domain: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SENT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = SENT.fetch_add(1, Ordering::Relaxed);
    format!(
        "<dmarcflow.{nanos:x}.{:x}.{n}@{domain}>",
        std::process::id()
    )
}
