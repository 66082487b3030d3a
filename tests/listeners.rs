//! The network sources end to end. SMTP: `swaks` delivers a report over STARTTLS to
//! `dmarcflow ingest` (listener mode), it goes through Apache Kafka (the
//! broker of `.ci/kafka.sh`) and `dmarcflow sink` stores it. With the broker
//! killed (`DMARCFLOW_KAFKA_TEST_STOP`) the listener answers 4xx; once it is
//! back on its storage (`DMARCFLOW_KAFKA_TEST_START`) the sender's retry
//! lands. Needs the broker, swaks and openssl; skips without them, except
//! under CI. HTTPS: a TLS report POSTed with curl to the endpoint lands in
//! the store. The two take turns: one stops the broker the other uses.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{certificate, free_port, have, wait_for};

use dmarcflow_testkit::fixtures::report_email;

/// The tests of this file one at a time (the outage stops the broker).
static BROKER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The shared broker's address and a topic prefix of the test's own.
fn broker(name: &str) -> Option<(String, String)> {
    let brokers = dmarcflow_testkit::services::kafka_brokers()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos());
    Some((brokers, format!("{name}-{nanos}")))
}

#[test]
fn swaks_over_starttls_and_a_broker_outage() {
    let _turn = BROKER.lock().unwrap_or_else(|e| e.into_inner());
    if !(have("swaks") && have("openssl")) {
        return;
    }
    let Some((brokers, prefix)) = broker("smtp-test") else {
        return;
    };
    let outage = dmarcflow_testkit::services::kafka_outage();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let at = |name: &str| dir.path().join(name).display().to_string();
    certificate(dir.path(), "mx.test");

    let smtp_port = free_port();
    let env = |c: &mut Command| {
        c.current_dir(dir.path())
            .env("DMARCFLOW_KAFKA_BROKERS", &brokers)
            .env("DMARCFLOW_KAFKA_TOPIC_PREFIX", &prefix)
            .env("DMARCFLOW_KAFKA_GROUP", format!("{prefix}-sink"))
            .env("DMARCFLOW_KAFKA_INSTANCE_ID", format!("{prefix}-sink"))
            .env("DMARCFLOW_SMTP_LISTEN", format!("127.0.0.1:{smtp_port}"))
            .env("DMARCFLOW_SMTP_HOSTNAME", "mx.test")
            .env("DMARCFLOW_SMTP_TLS_CERT", at("cert.pem"))
            .env("DMARCFLOW_SMTP_TLS_KEY", at("key.pem"))
            .env("DMARCFLOW_SMTP_REQUIRE_TLS", "true")
            .env("DMARCFLOW_SMTP_ALLOWED_RECIPIENTS", "dmarc@example.com")
            .env("DMARCFLOW_SMTP_BUS_TIMEOUT_SECS", "5")
            .env("DMARCFLOW_SQLITE_PATH", at("store.db"))
            .env("DMARCFLOW_BATCH_MAX_AGE_MS", "100")
            .env_remove("DMARCFLOW_CLICKHOUSE_URL")
            .env_remove("DMARCFLOW_CONFIG");
    };
    let mut listener = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
        c.arg("ingest").stdout(Stdio::null()).stderr(Stdio::null());
        env(&mut c);
        c.spawn().unwrap_or_else(|e| panic!("{e}"))
    };
    wait_for(smtp_port);
    let dmarcflow = |args: &[&str]| -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
        c.args(args);
        env(&mut c);
        c.output().unwrap_or_else(|e| panic!("{e}"))
    };
    let swaks = |id: &str| -> (bool, String) {
        std::fs::write(dir.path().join("mail.eml"), report_email(id))
            .unwrap_or_else(|e| panic!("{e}"));
        common::swaks(smtp_port, &dir.path().join("mail.eml"), true)
    };
    let stored = || {
        let out = dmarcflow(&[
            "query",
            "SELECT group_concat(reporter_report_id, ',') FROM aggregate_reports",
        ]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    };

    let (ok, log) = swaks("first");
    assert!(
        ok && log.contains("250 2.0.0 Ok: 1 reports queued"),
        "{log}"
    );
    assert!(log.contains("STARTTLS"), "{log}");
    let sink = dmarcflow(&["sink", "--until-idle", "3"]);
    assert!(
        sink.status.success(),
        "{}",
        String::from_utf8_lossy(&sink.stderr)
    );
    assert_eq!(stored(), "first");

    let Some(outage) = outage else {
        let _ = listener.kill();
        let _ = listener.wait();
        return;
    };
    // The broker dies (SIGKILL): 451 (a temporary failure), swaks gives up.
    outage.stop();
    let (ok, log) = swaks("second");
    outage.start();
    assert!(!ok && log.contains("451 4.3.0"), "{log}");

    // Back on its storage: the retry lands.
    // A sender retries a 4xx for days; here every 5 s, for a minute, while
    // the listener's producer reconnects to the new broker.
    let mut delivered = swaks("second");
    for _ in 0..12 {
        if delivered.0 {
            break;
        }
        std::thread::sleep(Duration::from_secs(5));
        delivered = swaks("second");
    }
    let (ok, log) = delivered;
    assert!(ok && log.contains("250 2.0.0"), "{log}");
    let sink = dmarcflow(&["sink", "--until-idle", "3"]);
    assert!(
        sink.status.success(),
        "{}",
        String::from_utf8_lossy(&sink.stderr)
    );
    assert_eq!(stored(), "first,second");

    let _ = listener.kill();
    let _ = listener.wait();
}

#[test]
fn a_tlsrpt_post_over_https_lands() {
    let _turn = BROKER.lock().unwrap_or_else(|e| e.into_inner());
    if !(have("curl") && have("openssl")) {
        return;
    }
    let Some((brokers, prefix)) = broker("https-test") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let at = |name: &str| dir.path().join(name).display().to_string();
    certificate(dir.path(), "localhost");
    let http_port = free_port();
    let env = |c: &mut Command| {
        c.current_dir(dir.path())
            .env("DMARCFLOW_KAFKA_BROKERS", &brokers)
            .env("DMARCFLOW_KAFKA_TOPIC_PREFIX", &prefix)
            .env("DMARCFLOW_KAFKA_GROUP", format!("{prefix}-sink"))
            .env("DMARCFLOW_KAFKA_INSTANCE_ID", format!("{prefix}-sink"))
            .env("DMARCFLOW_HTTP_LISTEN", format!("127.0.0.1:{http_port}"))
            .env("DMARCFLOW_HTTP_TLS_CERT", at("cert.pem"))
            .env("DMARCFLOW_HTTP_TLS_KEY", at("key.pem"))
            .env("DMARCFLOW_SQLITE_PATH", at("store.db"))
            .env("DMARCFLOW_BATCH_MAX_AGE_MS", "100")
            .env_remove("DMARCFLOW_SMTP_LISTEN")
            .env_remove("DMARCFLOW_CLICKHOUSE_URL")
            .env_remove("DMARCFLOW_CONFIG");
    };
    let mut endpoint = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
        c.arg("ingest").stdout(Stdio::null()).stderr(Stdio::null());
        env(&mut c);
        c.spawn().unwrap_or_else(|e| panic!("{e}"))
    };
    wait_for(http_port);
    std::fs::write(dir.path().join("report.json"), common::tls_report("curl-1"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (answer, stderr) = common::post_tls_report(
        http_port,
        &dir.path().join("cert.pem"),
        &dir.path().join("report.json"),
    );
    assert!(answer.ends_with("200"), "{answer}{stderr}");
    let mut sink = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
    sink.args(["sink", "--until-idle", "3"]);
    env(&mut sink);
    let sink = sink.output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        sink.status.success(),
        "{}",
        String::from_utf8_lossy(&sink.stderr)
    );
    let mut query = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
    query.args([
        "query",
        "SELECT reporter_report_id, successful_sessions, failed_sessions FROM tlsrpt_reports",
    ]);
    env(&mut query);
    let out = query.output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().nth(1),
        Some("curl-1\t10\t2")
    );
    let _ = endpoint.kill();
    let _ = endpoint.wait();
}
