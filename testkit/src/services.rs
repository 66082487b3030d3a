//! The real services the tests talk to, found from the environment that
//! `.ci/run` (or a developer) sets: a test asks here, and gets the
//! service's address, or None to skip. Under CI (`CI=true`) a missing
//! service is a failure, never a skip.

use std::time::Duration;

/// Whether the tests run under CI, where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// None (a skip, said on stderr) outside CI; a failure naming `what` and
/// how to get it under CI.
pub fn missing<T>(what: &str, hint: &str) -> Option<T> {
    assert!(!under_ci(), "{what} is missing under CI: {hint}");
    eprintln!("skipping: no {what} ({hint})");
    None
}

/// `$var` (else `default`) when something answers at it: a URL, an
/// address, or a list of them (Kafka brokers: the first is tried).
pub fn service(var: &str, default: &str) -> Option<String> {
    let value = std::env::var(var).unwrap_or_else(|_| default.into());
    let host = value
        .split(',')
        .next()
        .unwrap_or_default()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let up = host
        .parse()
        .ok()
        .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok());
    if up {
        return Some(value);
    }
    missing(&format!("{var} at {value}"), ".ci/run starts it")
}

/// The ClickHouse server's HTTP URL (`$DMARCFLOW_CLICKHOUSE_URL`, default
/// `http://127.0.0.1:8123`), whether or not it answers.
pub fn clickhouse_url() -> String {
    std::env::var("DMARCFLOW_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:8123".into())
}

/// The first of `candidates` that exists (a program Debian installs), or
/// None (a skip; a failure under CI).
pub fn program(candidates: &[&str], package: &str) -> Option<std::path::PathBuf> {
    let found = candidates
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists());
    match found {
        Some(p) => Some(p),
        None => missing(
            candidates[0],
            &format!(".ci/run installs Debian's {package}"),
        ),
    }
}

/// Apache Kafka's brokers (`$DMARCFLOW_KAFKA_BROKERS`, default
/// `127.0.0.1:9092`; `.ci/kafka.sh` starts one).
pub fn kafka_brokers() -> Option<String> {
    service("DMARCFLOW_KAFKA_BROKERS", "127.0.0.1:9092")
}

/// The scripts `.ci/kafka.sh` leaves to stop the broker and start it again
/// on its storage (`$DMARCFLOW_KAFKA_TEST_STOP`, `_START`): an outage.
#[derive(Debug, Clone)]
pub struct KafkaOutage {
    stop: String,
    start: String,
}

/// The outage scripts, or None (skip; a failure under CI).
pub fn kafka_outage() -> Option<KafkaOutage> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("DMARCFLOW_KAFKA_TEST_STOP"),
        var("DMARCFLOW_KAFKA_TEST_START"),
    ) {
        (Some(stop), Some(start)) => Some(KafkaOutage { stop, start }),
        _ => missing(
            "DMARCFLOW_KAFKA_TEST_STOP/START",
            ".ci/kafka.sh must run first",
        ),
    }
}

impl KafkaOutage {
    /// The broker stopped (its clients see it gone).
    pub fn stop(&self) {
        run(&self.stop);
    }

    /// The broker back on its storage.
    pub fn start(&self) {
        run(&self.start);
    }
}

fn run(script: &str) {
    let status = std::process::Command::new(script)
        .status()
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    assert!(status.success(), "{script}: {status}");
}

/// Dovecot's IMAP server as `.ci/dovecot.sh` leaves it
/// (`$DMARCFLOW_IMAP_TEST_*`): STARTTLS and TLS ports, a user, the private
/// CA that signed its certificate.
#[derive(Debug, Clone)]
pub struct Dovecot {
    pub host: String,
    /// IMAP with STARTTLS.
    pub port: u16,
    /// IMAP over TLS.
    pub tls_port: u16,
    pub user: String,
    pub password: String,
    pub ca: std::path::PathBuf,
}

/// Dovecot's settings, or None (skip; a failure under CI).
pub fn dovecot() -> Option<Dovecot> {
    let var = |name: &str| {
        std::env::var(format!("DMARCFLOW_IMAP_TEST_{name}"))
            .ok()
            .filter(|v| !v.is_empty())
    };
    let Some(host) = var("HOST") else {
        return missing(
            "Dovecot (DMARCFLOW_IMAP_TEST_HOST)",
            "run .ci/dovecot.sh and source its env",
        );
    };
    let number = |name: &str| var(name).and_then(|p| p.parse().ok()).unwrap_or(0);
    Some(Dovecot {
        host,
        port: number("PORT"),
        tls_port: number("TLS_PORT"),
        user: var("USER").unwrap_or_default(),
        password: var("PASSWORD").unwrap_or_default(),
        ca: var("CA").unwrap_or_default().into(),
    })
}

/// An SMTP relay (Exim, `.ci/exim.sh`) that delivers into a Dovecot
/// mailbox: where alerts are mailed in the tests.
#[derive(Debug, Clone)]
pub struct MailRelay {
    /// `host:port` of the relay.
    pub relay: String,
    /// The mailbox (in Dovecot) the relay delivers to.
    pub mailbox: String,
    pub dovecot: Dovecot,
}

/// The relay and its mailbox, or None (skip; a failure under CI).
pub fn mail_relay() -> Option<MailRelay> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let relay = var("DMARCFLOW_ALERTS_TEST_RELAY");
    let mailbox = var("DMARCFLOW_ALERTS_TEST_MAILBOX");
    let (Some(relay), Some(mailbox)) = (relay, mailbox) else {
        return missing("SMTP relay or mailbox", ".ci/exim.sh and .ci/dovecot.sh");
    };
    Some(MailRelay {
        relay,
        mailbox,
        dovecot: dovecot()?,
    })
}
