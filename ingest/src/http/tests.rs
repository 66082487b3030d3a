//! The endpoint over real TCP and TLS, with the recording bus.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::{serve, HttpConfig, Shared};
use dmarcflow_testkit::sources::{loopback, tls, Recording};

const REPORT: &str = r#"{"organization-name":"Mail Co","date-range":{"start-datetime":"2024-01-01T00:00:00Z",
"end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"tls@mail.example","report-id":"https-1",
"policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1"],"policy-domain":"example.com",
"mx-host":["mx.example.com"]},"summary":{"total-successful-session-count":10,"total-failure-session-count":1},
"failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.9",
"receiving-mx-hostname":"mx.example.com","failed-session-count":1}]}]}"#;

async fn post(
    address: &str,
    client: Arc<tokio_rustls::rustls::ClientConfig>,
    content_type: &str,
    body: &[u8],
) -> String {
    let tcp = TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let name = ServerName::try_from("mx.test").unwrap_or_else(|e| panic!("{e}"));
    let mut tls = TlsConnector::from(client)
        .connect(name, tcp)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let head = format!(
        "POST /tlsrpt HTTP/1.1\r\nHost: mx.test\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tls.write_all(body).await.unwrap_or_else(|e| panic!("{e}"));
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

#[tokio::test]
async fn tls_reports_are_posted_over_https() {
    let (server_tls, client_tls) = tls();
    let bus = Arc::new(Recording::default());
    let (listener, address) = loopback().await;
    let config = HttpConfig {
        max_body_bytes: 4096,
        tls: Some(server_tls),
        ..HttpConfig::default()
    };
    // With [enrich] (nothing to look up here): marked as received over HTTPS.
    let enricher = Some(Arc::new(dmarcflow_enrich::Enricher::default()));
    let shared = Arc::new(Shared::new(config, bus.clone()).with_enricher(enricher));
    tokio::spawn(serve(listener, shared));

    let ok = post(
        &address,
        client_tls.clone(),
        "application/tlsrpt+gzip",
        &gzip(REPORT.as_bytes()),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let ok = post(
        &address,
        client_tls.clone(),
        "application/tlsrpt+json",
        REPORT.as_bytes(),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    // The same report twice: two messages on the bus (the sink stores one).
    assert_eq!(bus.reports.lock().map(|r| r.len()).unwrap_or(0), 2);
    let verdicts = bus.verdicts.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(verdicts, [Some("https"), Some("https")]);

    let wrong = post(
        &address,
        client_tls.clone(),
        "text/plain",
        REPORT.as_bytes(),
    )
    .await;
    assert!(wrong.starts_with("HTTP/1.1 415"), "{wrong}");
    let big = post(
        &address,
        client_tls.clone(),
        "application/tlsrpt+json",
        &[b' '; 5000],
    )
    .await;
    assert!(big.starts_with("HTTP/1.1 413"), "{big}");
    let bad = post(
        &address,
        client_tls.clone(),
        "application/tlsrpt+json",
        b"{\"not\": \"a report\"}",
    )
    .await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    assert_eq!(
        bus.letters.lock().map(|l| l.len()).unwrap_or(0),
        1,
        "the bad report is a dead letter"
    );

    bus.down.store(true, Ordering::SeqCst);
    let down = post(
        &address,
        client_tls,
        "application/tlsrpt+json",
        REPORT.as_bytes(),
    )
    .await;
    assert!(
        down.starts_with("HTTP/1.1 503") && down.contains("retry-after"),
        "{down}"
    );
}

#[tokio::test]
async fn a_spent_memory_budget_is_a_503_with_retry_after() {
    let (server_tls, client_tls) = tls();
    let bus = Arc::new(Recording::default());
    let (listener, address) = loopback().await;
    let config = HttpConfig {
        tls: Some(server_tls),
        ..HttpConfig::default()
    };
    let budget = crate::MemoryBudget::new(4 << 20);
    let shared = Arc::new(Shared::new(config, bus.clone()).with_budget(budget.clone()));
    tokio::spawn(serve(listener, shared));
    // Room for the connection's buffers, none for a report.
    let held = budget.reserve((4 << 20) - super::CONNECTION_RESERVE).await;
    let busy = post(
        &address,
        client_tls.clone(),
        "application/tlsrpt+json",
        REPORT.as_bytes(),
    )
    .await;
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    assert!(busy.contains("too many reports in flight"), "{busy}");
    assert!(
        busy.to_ascii_lowercase().contains("retry-after: 60"),
        "{busy}"
    );
    assert_eq!(bus.reports.lock().map(|r| r.len()).unwrap_or(9), 0);
    drop(held);
    let ok = post(
        &address,
        client_tls,
        "application/tlsrpt+json",
        REPORT.as_bytes(),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    // The connection's share comes back once its task has ended.
    for _ in 0..100 {
        if budget.available() == 4 << 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(budget.available(), 4 << 20);
}
