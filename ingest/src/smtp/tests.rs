//! The listener over real TCP and TLS, with a recording bus that can be
//! made unavailable (the Kafka version is in the binary's tests).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::{serve, Shared, SmtpConfig};
use dmarcflow_testkit::fixtures::report_email;
use dmarcflow_testkit::sources::{loopback, tls, Recording};

/// A report email with a line that starts with a dot (dot-stuffing).
fn report() -> String {
    format!("{}.leading dot line\r\n", report_email("smtp-1"))
}

async fn start(config: SmtpConfig) -> (String, Arc<Recording>) {
    start_with(config, crate::MemoryBudget::default()).await
}

/// `start` drawing on `budget`.
async fn start_with(config: SmtpConfig, budget: crate::MemoryBudget) -> (String, Arc<Recording>) {
    let bus = Arc::new(Recording::default());
    let (listener, address) = loopback().await;
    let shared = Arc::new(Shared::new(config, bus.clone()).with_budget(budget));
    tokio::spawn(serve(listener, shared));
    (address, bus)
}

/// Sends a line (or nothing) and reads the whole reply.
async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    line: Option<&str>,
) -> String {
    if let Some(line) = line {
        io.get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut out = String::new();
    loop {
        let mut l = String::new();
        io.read_line(&mut l).await.unwrap_or_else(|e| panic!("{e}"));
        out.push_str(&l);
        if l.len() < 4 || l.as_bytes()[3] != b'-' {
            return out;
        }
    }
}

async fn send_message<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    to: &str,
    body: &str,
) -> String {
    assert!(talk(io, Some("MAIL FROM:<reports@mail.example>"))
        .await
        .starts_with("250"));
    assert!(talk(io, Some(&format!("RCPT TO:<{to}>")))
        .await
        .starts_with("250"));
    assert!(talk(io, Some("DATA")).await.starts_with("354"));
    let stuffed = body.replace("\r\n.", "\r\n..");
    talk(io, Some(&format!("{stuffed}\r\n."))).await
}

#[tokio::test]
async fn starttls_delivery_and_a_bus_outage() {
    let (server_tls, client_tls) = tls();
    let mut config = SmtpConfig::new("mx.test");
    config.tls = Some(server_tls);
    config.require_tls = true;
    config.allowed_recipients = vec!["dmarc@example.com".into()];
    let (address, bus) = start(config).await;

    let tcp = TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut io = BufReader::new(tcp);
    assert!(talk(&mut io, None).await.starts_with("220 mx.test"));
    let ehlo = talk(&mut io, Some("EHLO client.test")).await;
    assert!(ehlo.contains("STARTTLS") && ehlo.contains("SIZE"), "{ehlo}");
    assert!(
        talk(&mut io, Some("MAIL FROM:<a@b>"))
            .await
            .starts_with("530"),
        "TLS is required"
    );
    assert!(talk(&mut io, Some("STARTTLS")).await.starts_with("220"));
    let name = ServerName::try_from("mx.test").unwrap_or_else(|e| panic!("{e}"));
    let tls = TlsConnector::from(client_tls)
        .connect(name, io.into_inner())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut io = BufReader::new(tls);
    let ehlo = talk(&mut io, Some("EHLO client.test")).await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(talk(&mut io, Some("MAIL FROM:<reports@mail.example>"))
        .await
        .starts_with("250"));
    assert!(talk(&mut io, Some("RCPT TO:<someone@example.com>"))
        .await
        .starts_with("550"));
    assert!(talk(&mut io, Some("RSET")).await.starts_with("250"));

    let answer = send_message(&mut io, "dmarc@example.com", &report()).await;
    assert!(
        answer.starts_with("250 2.0.0 Ok: 1 reports queued"),
        "{answer}"
    );
    assert_eq!(bus.reports.lock().map(|r| r.len()).unwrap_or(0), 1);

    // The bus goes away: 451, nothing recorded; back: the retry lands.
    bus.down.store(true, Ordering::SeqCst);
    let answer = send_message(&mut io, "dmarc@example.com", &report()).await;
    assert!(answer.starts_with("451 4.3.0"), "{answer}");
    bus.down.store(false, Ordering::SeqCst);
    let answer = send_message(&mut io, "dmarc@example.com", &report()).await;
    assert!(answer.starts_with("250"), "{answer}");
    assert_eq!(bus.reports.lock().map(|r| r.len()).unwrap_or(0), 2);

    // Not a report: accepted, and in the dead letters with its reason.
    let answer = send_message(
        &mut io,
        "dmarc@example.com",
        "Subject: hello\r\n\r\njust words\r\n",
    )
    .await;
    assert!(answer.contains("1 rejected"), "{answer}");
    assert_eq!(
        bus.letters.lock().map(|l| l.clone()).unwrap_or_default(),
        ["not_a_report"]
    );
    assert!(talk(&mut io, Some("QUIT")).await.starts_with("221"));
}

#[tokio::test]
async fn lmtp_answers_per_recipient_and_limits_size() {
    let mut config = SmtpConfig::new("lmtp.test");
    config.lmtp = true;
    config.max_message_bytes = 2000;
    let (address, bus) = start(config).await;
    let tcp = TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut io = BufReader::new(tcp);
    talk(&mut io, None).await;
    assert!(
        talk(&mut io, Some("EHLO x")).await.starts_with("502"),
        "LMTP wants LHLO"
    );
    assert!(talk(&mut io, Some("LHLO x")).await.starts_with("250"));
    assert!(talk(&mut io, Some("MAIL FROM:<a@b> SIZE=999999"))
        .await
        .starts_with("552"));
    assert!(talk(&mut io, Some("MAIL FROM:<a@b>"))
        .await
        .starts_with("250"));
    assert!(talk(&mut io, Some("RCPT TO:<one@example.com>"))
        .await
        .starts_with("250"));
    assert!(talk(&mut io, Some("RCPT TO:<two@example.com>"))
        .await
        .starts_with("250"));
    assert!(talk(&mut io, Some("DATA")).await.starts_with("354"));
    io.get_mut()
        .write_all(format!("{}\r\n.\r\n", report()).as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = talk(&mut io, None).await;
    let second = talk(&mut io, None).await;
    assert!(
        first.starts_with("250") && second.starts_with("250"),
        "{first}{second}"
    );
    // Too big: 552, read to its end, the session goes on.
    assert!(talk(&mut io, Some("MAIL FROM:<a@b>"))
        .await
        .starts_with("250"));
    assert!(talk(&mut io, Some("RCPT TO:<one@example.com>"))
        .await
        .starts_with("250"));
    assert!(talk(&mut io, Some("DATA")).await.starts_with("354"));
    let big = "x".repeat(3000);
    assert!(talk(&mut io, Some(&format!("{big}\r\n.")))
        .await
        .starts_with("552"));
    assert!(talk(&mut io, Some("NOOP")).await.starts_with("250"));
    assert_eq!(bus.reports.lock().map(|r| r.len()).unwrap_or(0), 1);
}

#[tokio::test]
async fn a_spent_memory_budget_is_a_451_and_room_again_is_a_250() {
    let budget = crate::MemoryBudget::new(4 << 20);
    let (address, bus) = start_with(SmtpConfig::new("mx.test"), budget.clone()).await;
    let tcp = TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut io = BufReader::new(tcp);
    assert!(talk(&mut io, None).await.starts_with("220"));
    // The connection holds its buffers' share; someone else all the rest.
    assert_eq!(budget.available(), (4 << 20) - super::CONNECTION_RESERVE);
    let held = budget.reserve(budget.available()).await;
    // A second connection finds no room for its buffers: refused at once.
    let refused = TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut second = BufReader::new(refused);
    let said = talk(&mut second, None).await;
    assert!(said.starts_with("421 4.7.0 mx.test Too busy"), "{said}");
    assert!(talk(&mut io, Some("EHLO client.test"))
        .await
        .starts_with("250"));
    assert!(talk(&mut io, Some("MAIL FROM:<r@mail.example>"))
        .await
        .starts_with("250"));
    assert!(talk(&mut io, Some("RCPT TO:<dmarc@example.com>"))
        .await
        .starts_with("250"));
    let refused = talk(&mut io, Some("DATA")).await;
    assert!(refused.starts_with("451 4.3.1"), "{refused}");
    assert_eq!(bus.reports.lock().map(|r| r.len()).unwrap_or(9), 0);
    // Given back: the sender's retry goes through.
    drop(held);
    let answer = send_message(&mut io, "dmarc@example.com", &report()).await;
    assert!(answer.starts_with("250"), "{answer}");
    assert!(talk(&mut io, Some("QUIT")).await.starts_with("221"));
    drop(io);
    for _ in 0..100 {
        if budget.available() == 4 << 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(budget.available(), 4 << 20, "all of it given back");
}
