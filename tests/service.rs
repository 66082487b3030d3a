//! `dmarcflow run` without paths: network sources and the store in one
//! process. Without Kafka (the acknowledged in-process bus) a TLS report
//! POSTed to the endpoint is in the SQLite store by the time the 200
//! arrives; with Kafka (`DMARCFLOW_KAFKA_BROKERS`; skipped without it,
//! except under CI) the same process publishes and sinks it.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::free_port;

const REPORT: &str = r#"{"organization-name":"Mail Co","date-range":{"start-datetime":"2024-01-01T00:00:00Z","end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"tls@mail.example","report-id":"RID","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1"],"policy-domain":"example.com","mx-host":["mx.example.com"]},"summary":{"total-successful-session-count":10,"total-failure-session-count":2},"failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.9","receiving-mx-hostname":"mx.example.com","failed-session-count":2}]}]}"#;

fn command(dir: &Path, port: u16, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
    c.args(args)
        .current_dir(dir)
        .env("DMARCFLOW_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .env("DMARCFLOW_SQLITE_PATH", dir.join("store.db"))
        .env("DMARCFLOW_BATCH_MAX_AGE_MS", "100")
        .env_remove("DMARCFLOW_KAFKA_BROKERS")
        .env_remove("DMARCFLOW_SMTP_LISTEN")
        .env_remove("DMARCFLOW_IMAP_HOST")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_CONFIG");
    c
}

fn start(mut c: Command, port: u16) -> Child {
    let child = c
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// POSTs a TLS report over plain HTTP; the status code.
fn post(port: u16, body: &str) -> u16 {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("{e}"));
    let request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// The Prometheus text the metrics endpoint serves.
fn metrics(port: u16) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("{e}"));
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    answer
}

/// The value of one sample line (`name{labels}`), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

fn stored(dir: &Path, port: u16) -> Option<String> {
    let out = command(dir, port, &["query", "SELECT reporter_report_id, successful_sessions, failed_sessions FROM tlsrpt_reports ORDER BY reporter_report_id"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    (!rows.is_empty()).then(|| rows.join("\n"))
}

fn terminate(mut child: Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
}

#[test]
fn without_kafka_the_answer_waits_for_the_store() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let metrics_port = free_port();
    let mut c = command(dir.path(), port, &["run"]);
    c.env(
        "DMARCFLOW_METRICS_LISTEN",
        format!("127.0.0.1:{metrics_port}"),
    );
    let service = start(c, port);

    assert_eq!(post(port, &REPORT.replace("RID", "svc-1")), 200);
    // Acknowledged means stored: no waiting here.
    assert_eq!(stored(dir.path(), port).as_deref(), Some("svc-1\t10\t2"));

    assert_eq!(post(port, "{\"organization-name\": "), 400);
    let letters = std::fs::read_to_string(dir.path().join("dmarcflow-dead-letters.jsonl"))
        .unwrap_or_default();
    let letter: serde_json::Value =
        serde_json::from_str(letters.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(letter["reason"], "malformed_json", "{letters}");
    assert!(letter["raw_base64"].as_str().is_some_and(|r| !r.is_empty()));

    let text = metrics(metrics_port);
    for (series, value) in [
        ("dmarcflow_source_messages_total{source=\"http\"}", 2.0),
        (
            "dmarcflow_reports_published_total{source=\"http\",kind=\"tlsrpt\"}",
            1.0,
        ),
        (
            "dmarcflow_records_published_total{source=\"http\",kind=\"tlsrpt\"}",
            1.0,
        ),
        (
            "dmarcflow_dead_letters_total{source=\"http\",reason=\"malformed_json\"}",
            1.0,
        ),
        (
            "dmarcflow_store_reports_total{store=\"sqlite\",outcome=\"stored\"}",
            1.0,
        ),
        ("dmarcflow_store_batch_seconds_count{store=\"sqlite\"}", 1.0),
    ] {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    assert!(
        text.contains("# HELP dmarcflow_store_batch_seconds"),
        "{text}"
    );
    terminate(service);
}

#[test]
fn with_kafka_one_process_publishes_and_sinks() {
    let Some(brokers) = dmarcflow_testkit::services::kafka_brokers() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let metrics_port = free_port();
    let mut c = command(dir.path(), port, &["run"]);
    c.env(
        "DMARCFLOW_METRICS_LISTEN",
        format!("127.0.0.1:{metrics_port}"),
    )
    .env("DMARCFLOW_KAFKA_BROKERS", &brokers)
    .env("DMARCFLOW_KAFKA_TOPIC_PREFIX", format!("service-{nanos}"))
    .env("DMARCFLOW_KAFKA_GROUP", format!("service-{nanos}"))
    .env("DMARCFLOW_KAFKA_INSTANCE_ID", "service-1");
    let service = start(c, port);
    assert_eq!(post(port, &REPORT.replace("RID", "svc-kafka")), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(rows) = stored(dir.path(), port) {
            assert_eq!(rows, "svc-kafka\t10\t2");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the report never reached the store"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The sink's lag comes from librdkafka's statistics (every 10 s).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = metrics(metrics_port);
        assert_eq!(
            sample(&text, "dmarcflow_sink_messages_total"),
            Some(1.0),
            "{text}"
        );
        let lags: Vec<f64> = text
            .lines()
            .filter(|l| l.starts_with("dmarcflow_sink_lag_messages{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
            .collect();
        if !lags.is_empty() {
            assert!(lags.iter().all(|&lag| lag == 0.0), "all consumed: {lags:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no lag gauge in\n{text}");
        std::thread::sleep(Duration::from_millis(500));
    }
    terminate(service);
}

/// Every metric the pipeline dashboard plots is one the services describe
/// (and so export): a renamed metric would leave a panel empty.
#[test]
fn the_pipeline_dashboard_plots_exported_metrics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let board = std::fs::read_to_string(root.join("deploy/grafana/dashboards/pipeline.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let described = std::fs::read_to_string(root.join("src/metrics_endpoint.rs"))
        .unwrap_or_else(|e| panic!("{e}"));
    let board: serde_json::Value = serde_json::from_str(&board).unwrap_or_else(|e| panic!("{e}"));
    let mut plotted = 0;
    for panel in board["panels"].as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap_or_default();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if let Some(name) = word.strip_prefix("dmarcflow_").map(|_| word) {
                    let base = ["_bucket", "_count", "_sum"]
                        .iter()
                        .find_map(|s| name.strip_suffix(s))
                        .unwrap_or(name);
                    assert!(
                        described.contains(&format!("\"{base}\"")),
                        "{} plots {base}, which no service exports",
                        panel["title"]
                    );
                    plotted += 1;
                }
            }
        }
    }
    assert!(plotted >= 10, "{plotted}");
}

/// SIGTERM while an SMTP message is half sent: the listener stops
/// accepting, but the conversation under way finishes with its 250 (the
/// report stored) before the process exits.
#[test]
fn a_stop_lets_the_delivery_under_way_finish() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let smtp_port = free_port();
    let mut c = command(dir.path(), port, &["run"]);
    c.env("DMARCFLOW_SMTP_LISTEN", format!("127.0.0.1:{smtp_port}"));
    let mut service = start(c, port);

    let tcp = TcpStream::connect(("127.0.0.1", smtp_port)).unwrap_or_else(|e| panic!("{e}"));
    tcp.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut writer = tcp.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let mut reader = BufReader::new(tcp);
    // The last line of a (possibly multi-line) reply.
    let mut reply = || loop {
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{e}"));
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return line;
        }
    };
    assert!(reply().starts_with("220"));
    for (command, expected) in [
        ("EHLO client.test", "250"),
        ("MAIL FROM:<r@mail.example>", "250"),
        ("RCPT TO:<dmarc@example.com>", "250"),
        ("DATA", "354"),
    ] {
        writer
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let answer = reply();
        assert!(answer.starts_with(expected), "{command}: {answer}");
    }
    let body = format!(
        "From: r@mail.example\r\nTo: dmarc@example.com\r\nSubject: TLS report\r\nContent-Type: application/tlsrpt+json\r\n\r\n{}\r\n",
        REPORT.replace("RID", "svc-smtp")
    );
    writer
        .write_all(body.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = Command::new("kill").arg(service.id().to_string()).status();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        service.try_wait().ok().flatten().is_none(),
        "exited with a message half sent"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", smtp_port)).is_err(),
        "still accepting after SIGTERM"
    );
    writer.write_all(b".\r\n").unwrap_or_else(|e| panic!("{e}"));
    let answer = reply();
    assert!(answer.starts_with("250"), "{answer}");
    let _ = writer.write_all(b"QUIT\r\n");
    drop(writer);
    drop(reader);
    let status = service.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status}");
    assert_eq!(stored(dir.path(), port).as_deref(), Some("svc-smtp\t10\t2"));
}
