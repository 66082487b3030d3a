//! The listeners as an attacker on the internet finds them: `dmarcflow
//! run` (the embedded store) with the SMTP listener (STARTTLS) and the
//! HTTPS TLS-RPT endpoint, started under a low open-file limit (`prlimit`).
//! - A flood of 2,000 held connections: the process stays up, refuses past
//!   the caps (`421 4.7.0`, 503; counted by reason), its peak RSS stays
//!   within the budget plus a fixed overhead, and once the flood is gone
//!   swaks and curl deliver reports that are stored.
//! - Caps above the open-file limit: `accept` fails with EMFILE, which is
//!   counted and survived, never the end of a listener.
//! - Slow clients (200 sending a header byte every two seconds, 300 that
//!   never finish TLS over HTTPS or after STARTTLS, 200 SMTP sessions
//!   stopped in the middle of DATA): each closed at its timeout while the
//!   listeners serve others.
//!
//! Needs swaks, curl and prlimit; skips without them, except under CI.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use common::{free_port, have, wait_for};
use dmarcflow_testkit::fixtures::report_email;

/// The memory budget the service runs with.
const BUDGET: u64 = 64 << 20;
/// What the process holds beside its budget: code, the runtime, SQLite's
/// cache, the store's batch, the accepted sockets' kernel-side state is
/// not counted (not RSS). Measured: see the assertion's message.
const OVERHEAD: u64 = 64 << 20;

struct Service {
    child: Option<Child>,
    dir: tempfile::TempDir,
    smtp: u16,
    http: u16,
    metrics: u16,
}

impl Service {
    /// `dmarcflow run` with both listeners (under `nofile` open files when
    /// given) and `env` over the defaults.
    fn start(nofile: Option<u64>, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        certificate(dir.path());
        let (smtp, http, metrics) = (free_port(), free_port(), free_port());
        let at = |name: &str| dir.path().join(name).display().to_string();
        let mut c = match nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}"))
                    .arg("--")
                    .arg(env!("CARGO_BIN_EXE_dmarcflow"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_dmarcflow")),
        };
        c.arg("run")
            .current_dir(dir.path())
            .env_remove("DMARCFLOW_CONFIG")
            .env_remove("DMARCFLOW_CLICKHOUSE_URL")
            .env_remove("DMARCFLOW_KAFKA_BROKERS")
            .env_remove("DMARCFLOW_IMAP_HOST")
            .env_remove("DMARCFLOW_ALERTS_WEBHOOKS")
            .env("DMARCFLOW_SQLITE_PATH", at("store.db"))
            .env("DMARCFLOW_BATCH_MAX_AGE_MS", "100")
            .env("DMARCFLOW_MEMORY_BUDGET", BUDGET.to_string())
            .env("DMARCFLOW_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
            .env("DMARCFLOW_SMTP_LISTEN", format!("127.0.0.1:{smtp}"))
            .env("DMARCFLOW_SMTP_HOSTNAME", "localhost")
            .env("DMARCFLOW_SMTP_TLS_CERT", at("cert.pem"))
            .env("DMARCFLOW_SMTP_TLS_KEY", at("key.pem"))
            .env("DMARCFLOW_SMTP_ALLOWED_RECIPIENTS", "dmarc@example.com")
            .env("DMARCFLOW_HTTP_LISTEN", format!("127.0.0.1:{http}"))
            .env("DMARCFLOW_HTTP_TLS_CERT", at("cert.pem"))
            .env("DMARCFLOW_HTTP_TLS_KEY", at("key.pem"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.path().join("stderr")).unwrap_or_else(|e| panic!("{e}")),
            );
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.spawn().unwrap_or_else(|e| panic!("{e}"));
        let service = Self {
            child: Some(child),
            dir,
            smtp,
            http,
            metrics,
        };
        for port in [smtp, http, metrics] {
            wait_for(port);
        }
        service
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("stderr")).unwrap_or_default()
    }

    fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The sum of the samples of `name` whose labels include `labels`.
    fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = http_get(self.metrics, "/metrics");
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
            .filter(|l| {
                labels
                    .iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Delivers a report email with this id over STARTTLS.
    fn swaks(&self, id: &str) -> (bool, String) {
        let mail = self.path(&format!("{id}.eml"));
        std::fs::write(&mail, report_email(id)).unwrap_or_else(|e| panic!("{e}"));
        common::swaks(self.smtp, &mail, true)
    }

    /// Posts a TLS report with this id: curl's output ending in the status.
    fn curl(&self, id: &str) -> String {
        let report = self.path(&format!("{id}.json"));
        std::fs::write(&report, common::tls_report(id)).unwrap_or_else(|e| panic!("{e}"));
        let (out, err) = common::post_tls_report(self.http, &self.path("cert.pem"), &report);
        format!("{out}{err}")
    }

    /// Stops the service (SIGTERM): its exit code and peak RSS.
    fn stop(&mut self) -> (Option<i32>, u64) {
        let child = self.child.take().unwrap_or_else(|| panic!("stopped twice"));
        // SAFETY: signals our own child, which has not been waited for.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        common::peak_rss::wait_measured(child).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A query's one value, on the stopped service's store.
    fn query(&self, sql: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
            .args(["query", sql])
            .current_dir(self.dir.path())
            .env_remove("DMARCFLOW_CONFIG")
            .env_remove("DMARCFLOW_CLICKHOUSE_URL")
            .env("DMARCFLOW_SQLITE_PATH", self.path("store.db"))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A certificate for `localhost` (an end-entity one, as rustls clients
/// require): `cert.pem` and `key.pem` in `dir`.
fn certificate(dir: &Path) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("key.pem"), made.key_pair.serialize_pem())
        .unwrap_or_else(|e| panic!("{e}"));
}

fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(tcp, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut text = String::new();
    let _ = tcp.read_to_string(&mut text);
    text
}

fn tools() -> bool {
    have("swaks") && have("curl") && have("prlimit")
}

fn runtime() -> tokio::runtime::Runtime {
    // The test holds thousands of sockets: lift its own soft limit.
    let _ = dmarcflow_listen::open_files::raise();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `n` connections to `port`, held, from 127.0.0.`first` onwards, `each`
/// from one address before the next. A connection the kernel's backlog
/// has no room for (net.core.somaxconn, often 128 or 4096) is given up
/// after a second.
async fn connect_many(port: u16, n: usize, first: u8, each: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let octet = first.saturating_add(u8::try_from(i / each).unwrap_or(u8::MAX));
        let from = SocketAddr::from((Ipv4Addr::new(127, 0, 0, octet), 0));
        let to = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let Ok(socket) = TcpSocket::new_v4() else {
            continue;
        };
        if socket.bind(from).is_err() {
            continue;
        }
        if let Ok(Ok(tcp)) = tokio::time::timeout(Duration::from_secs(5), socket.connect(to)).await
        {
            held.push(tcp);
        }
    }
    held
}

/// What each held SMTP connection was told first: the greeting (`220`),
/// a refusal (`421 ...`), or nothing before the server closed it (`""`).
async fn first_words(conns: &mut [TcpStream]) -> Vec<String> {
    let reads = conns.iter_mut().map(|c| async move {
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await {
            Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n]).into_owned(),
            Ok(Err(_)) => String::new(),
            Err(_) => "silent".to_owned(),
        }
    });
    futures_util::future::join_all(reads).await
}

#[test]
fn a_flood_of_held_connections_is_refused_past_the_caps() {
    if !tools() {
        return;
    }
    // 512 files, two listeners, a 64 MiB budget: SMTP (64 KiB a
    // connection) min((512 - 256) / 2 - 32, 64 MiB / 4 / 2 / 64 KiB) = 96,
    // HTTPS (128 KiB) min(96, 64) = 64; 50 per address. The handshake
    // timeout is long enough for the flood to be held while it is looked at.
    let mut service = Service::start(
        Some(512),
        &[("DMARCFLOW_HTTP_TLS_HANDSHAKE_TIMEOUT_SECS", "120")],
    );
    let stderr = service.stderr();
    assert!(
        stderr.contains("soft limit 512")
            && stderr
                .contains("connection caps: smtp 96 (per address 50), http 64 (per address 50)"),
        "{stderr}"
    );
    let rt = runtime();
    let (smtp, http) = (service.smtp, service.http);
    // 1,000 each: the first 60 from 127.0.0.1 (50 admitted, 10 past the
    // per-address cap), the rest from 127.0.0.2 on, 50 an address.
    let (mut smtp_flood, http_flood) = rt.block_on(async {
        let mut smtp_flood = connect_many(smtp, 60, 1, 60).await;
        smtp_flood.extend(connect_many(smtp, 940, 2, 50).await);
        let mut http_flood = connect_many(http, 60, 1, 60).await;
        http_flood.extend(connect_many(http, 940, 2, 50).await);
        (smtp_flood, http_flood)
    });
    assert_eq!((smtp_flood.len(), http_flood.len()), (1000, 1000));
    let words = rt.block_on(first_words(&mut smtp_flood));
    let greeted = words.iter().filter(|w| w.starts_with("220 ")).count();
    let told = words
        .iter()
        .filter(|w| w.starts_with("421 4.7.0 localhost Too many connections"))
        .count();
    let closed = words.iter().filter(|w| w.is_empty()).count();
    assert_eq!(greeted, 96, "{:?}", &words[..100]);
    assert!(told >= 32, "{told} refusals said");
    assert_eq!(told + closed, 904, "every other connection refused");
    assert!(service.running(), "the flood ended the service");

    // Still held: refused in words, once a refusal slot is free again.
    std::thread::sleep(Duration::from_secs(3));
    let (ok, log) = service.swaks("during");
    assert!(
        !ok && log.contains("421 4.7.0 localhost Too many connections"),
        "{log}"
    );
    let answer = service.curl("during");
    assert!(
        answer.contains("too many connections") && answer.ends_with("503"),
        "{answer}"
    );

    let refused = |listener, reason| {
        service.metric(
            "dmarcflow_listener_refused_total",
            &[("listener", listener), ("reason", reason)],
        )
    };
    assert_eq!(refused("smtp", "max_connections_per_ip"), 10.0);
    assert_eq!(refused("smtp", "max_connections"), 895.0);
    assert_eq!(refused("http", "max_connections_per_ip"), 10.0);
    assert_eq!(refused("http", "max_connections"), 927.0);
    let open =
        |listener| service.metric("dmarcflow_listener_connections", &[("listener", listener)]);
    assert_eq!((open("smtp"), open("http")), (96.0, 64.0));

    // The flood leaves: served again.
    drop(smtp_flood);
    drop(http_flood);
    std::thread::sleep(Duration::from_secs(1));
    let (ok, log) = service.swaks("after-the-flood");
    assert!(
        ok && log.contains("250 2.0.0 Ok: 1 reports queued"),
        "{log}"
    );
    assert!(log.contains("STARTTLS"), "{log}");
    let answer = service.curl("after-the-flood");
    assert!(answer.ends_with("200"), "{answer}");
    assert!(service.running());
    let (code, peak) = service.stop();
    assert_eq!(code, Some(0), "{}", service.stderr());
    eprintln!("peak RSS under the flood: {} MiB", peak >> 20);
    assert!(
        peak < BUDGET + OVERHEAD,
        "peak RSS {} MiB, over the budget {} MiB + {} MiB",
        peak >> 20,
        BUDGET >> 20,
        OVERHEAD >> 20
    );
    assert_eq!(
        service.query("SELECT group_concat(reporter_report_id) FROM aggregate_reports"),
        "after-the-flood"
    );
    assert_eq!(
        service.query("SELECT group_concat(reporter_report_id) FROM tlsrpt_reports"),
        "after-the-flood"
    );
}

#[test]
fn accept_errors_are_counted_and_survived() {
    if !tools() {
        return;
    }
    // Caps far above the 128 files the process may open: accept fails
    // with EMFILE once they are spent.
    let mut service = Service::start(
        Some(128),
        &[
            ("DMARCFLOW_SMTP_MAX_CONNECTIONS", "1000"),
            ("DMARCFLOW_SMTP_MAX_CONNECTIONS_PER_IP", "1000"),
            ("DMARCFLOW_HTTP_MAX_CONNECTIONS", "1000"),
            ("DMARCFLOW_HTTP_MAX_CONNECTIONS_PER_IP", "1000"),
        ],
    );
    let rt = runtime();
    let started = Instant::now();
    // SMTP takes the files there are (about 100 connections) and its
    // accept fails; HTTPS's fails at once. The rest wait in the backlog.
    let flood = rt.block_on(async {
        let mut flood = connect_many(service.smtp, 150, 1, 150).await;
        flood.extend(connect_many(service.http, 100, 1, 100).await);
        // Long enough for the loops to meet EMFILE again and again.
        tokio::time::sleep(Duration::from_secs(2)).await;
        flood
    });
    assert!(service.running(), "EMFILE ended the service");
    drop(flood);
    std::thread::sleep(Duration::from_secs(1));
    let emfile = |listener| {
        service.metric(
            "dmarcflow_listener_accept_errors_total",
            &[("listener", listener), ("error", "EMFILE")],
        )
    };
    assert!(emfile("smtp") >= 1.0, "{}", service.stderr());
    assert!(emfile("http") >= 1.0, "{}", service.stderr());
    let (ok, log) = service.swaks("after-emfile");
    assert!(ok && log.contains("250 2.0.0"), "{log}");
    let answer = service.curl("after-emfile");
    assert!(answer.ends_with("200"), "{answer}");
    // Logged at most once a second per listener.
    let lines = service.stderr().matches("accept failed").count();
    let seconds = started.elapsed().as_secs() + 1;
    assert!(
        lines >= 1 && lines as u64 <= 2 * seconds,
        "{lines} lines in {seconds} s"
    );
    let (code, _) = service.stop();
    assert_eq!(code, Some(0), "{}", service.stderr());
    assert_eq!(
        service.query("SELECT group_concat(reporter_report_id) FROM aggregate_reports"),
        "after-emfile"
    );
}

/// A TLS client trusting the service's certificate.
fn tls_client(service: &Service) -> tokio_rustls::TlsConnector {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    let cert =
        CertificateDer::from_pem_file(service.path("cert.pem")).unwrap_or_else(|e| panic!("{e}"));
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(cert).unwrap_or_else(|e| panic!("{e}"));
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap_or_else(|e| panic!("{e}"))
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Sends `byte` every `every` until the server closes: how long after the
/// start that took (None: still open after `give_up`).
async fn trickle<S>(
    mut stream: S,
    byte: &[u8],
    every: Duration,
    give_up: Duration,
) -> Option<Duration>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let started = Instant::now();
    let mut buf = [0u8; 512];
    while started.elapsed() < give_up {
        if stream.write_all(byte).await.is_err() {
            return Some(started.elapsed());
        }
        match tokio::time::timeout(every, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            // A refusal or a timeout's answer: closed after it.
            Ok(Ok(_)) => continue,
            Err(_) => continue,
        }
    }
    None
}

/// Waits until the server closes: how long that took.
async fn closed_after<S: tokio::io::AsyncRead + Unpin>(
    mut stream: S,
    give_up: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        let left = give_up.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

/// The next whole reply (its last line), within 10 s.
async fn reply(io: &mut tokio::io::BufReader<TcpStream>) -> Option<String> {
    use tokio::io::AsyncBufReadExt;
    loop {
        let mut line = String::new();
        match tokio::time::timeout(Duration::from_secs(10), io.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return None,
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Some(line);
        }
    }
}

/// STARTTLS, then a TLS record header announcing a ClientHello that never
/// comes: how long until the server closed.
async fn stall_in_starttls(port: u16) -> Option<Duration> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let mut io = tokio::io::BufReader::new(tcp);
    reply(&mut io).await?;
    for command in ["EHLO slow.test", "STARTTLS"] {
        io.get_mut()
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .ok()?;
        reply(&mut io).await?;
    }
    io.get_mut()
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0xff])
        .await
        .ok()?;
    closed_after(io, Duration::from_secs(30)).await
}

/// An SMTP conversation up to the middle of DATA, then silence: how long
/// after the last data the server closed.
async fn stop_in_data(port: u16) -> Option<Duration> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let mut io = tokio::io::BufReader::new(tcp);
    let mut last = reply(&mut io).await?;
    for command in [
        "EHLO slow.test",
        "MAIL FROM:<r@mail.example>",
        "RCPT TO:<dmarc@example.com>",
        "DATA",
    ] {
        io.get_mut()
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .ok()?;
        last = reply(&mut io).await?;
    }
    if !last.starts_with("354") {
        return None;
    }
    io.get_mut()
        .write_all(b"Subject: half a message\r\n\r\nthe first line\r\n")
        .await
        .ok()?;
    closed_after(io, Duration::from_secs(30)).await
}

#[test]
fn slow_clients_are_closed_at_their_timeouts() {
    if !tools() {
        return;
    }
    const TIMEOUT: Duration = Duration::from_secs(3);
    let mut service = Service::start(
        None,
        &[
            ("DMARCFLOW_SMTP_MAX_CONNECTIONS", "1000"),
            ("DMARCFLOW_SMTP_MAX_CONNECTIONS_PER_IP", "1000"),
            ("DMARCFLOW_HTTP_MAX_CONNECTIONS", "1000"),
            ("DMARCFLOW_HTTP_MAX_CONNECTIONS_PER_IP", "1000"),
            // A sender in DATA holds its parse's room (3 MiB) from the
            // start: 200 stalled ones hold 600 MiB until the data timeout.
            ("DMARCFLOW_MEMORY_BUDGET", "1GiB"),
            ("DMARCFLOW_SMTP_DATA_TIMEOUT_SECS", "3"),
            ("DMARCFLOW_SMTP_COMMAND_TIMEOUT_SECS", "3"),
            ("DMARCFLOW_HTTP_HEADER_TIMEOUT_SECS", "3"),
            ("DMARCFLOW_HTTP_TLS_HANDSHAKE_TIMEOUT_SECS", "3"),
            ("DMARCFLOW_SMTP_TLS_HANDSHAKE_TIMEOUT_SECS", "3"),
        ],
    );
    let rt = runtime();
    let connector = tls_client(&service);
    let (smtp, http) = (service.smtp, service.http);
    let give_up = Duration::from_secs(30);
    let slow = rt.block_on(async {
        let mut headers = Vec::new();
        for _ in 0..200 {
            let connector = connector.clone();
            headers.push(tokio::spawn(async move {
                let tcp = TcpStream::connect(("127.0.0.1", http)).await.ok()?;
                let name =
                    tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").ok()?;
                let tls = connector.connect(name, tcp).await.ok()?;
                trickle(tls, b"P", Duration::from_secs(2), give_up).await
            }));
        }
        let mut handshakes = Vec::new();
        for _ in 0..200 {
            handshakes.push(tokio::spawn(async move {
                let mut tcp = TcpStream::connect(("127.0.0.1", http)).await.ok()?;
                // A TLS record header announcing a ClientHello that never comes.
                tcp.write_all(&[0x16, 0x03, 0x01, 0x00, 0xff]).await.ok()?;
                closed_after(tcp, give_up).await
            }));
        }
        for _ in 0..100 {
            handshakes.push(tokio::spawn(stall_in_starttls(smtp)));
        }
        let mut data = Vec::new();
        for _ in 0..200 {
            data.push(tokio::spawn(stop_in_data(smtp)));
        }
        (headers, handshakes, data)
    });
    // Meanwhile, others are served.
    std::thread::sleep(Duration::from_secs(1));
    let (ok, log) = service.swaks("beside-the-slow");
    assert!(
        ok && log.contains("250 2.0.0 Ok: 1 reports queued"),
        "{log}"
    );
    let answer = service.curl("beside-the-slow");
    assert!(answer.ends_with("200"), "{answer}");

    let (headers, handshakes, data) = slow;
    let collect = |tasks: Vec<tokio::task::JoinHandle<Option<Duration>>>| {
        rt.block_on(async {
            let mut took = Vec::new();
            for t in tasks {
                took.push(t.await.ok().flatten());
            }
            took
        })
    };
    for (what, took) in [
        ("a header byte every 2 s", collect(headers)),
        ("TLS never finished (HTTPS, STARTTLS)", collect(handshakes)),
        ("stopped in DATA", collect(data)),
    ] {
        let closed: Vec<Duration> = took.iter().flatten().copied().collect();
        assert_eq!(
            closed.len(),
            took.len(),
            "{what}: {} of {} closed",
            closed.len(),
            took.len()
        );
        let (first, last) = (
            closed.iter().min().copied().unwrap_or_default(),
            closed.iter().max().copied().unwrap_or_default(),
        );
        eprintln!("{what}: closed after {first:?} to {last:?}");
        assert!(
            first >= TIMEOUT - Duration::from_millis(200)
                && last < TIMEOUT + Duration::from_secs(5),
            "{what}: closed after {first:?} to {last:?}, the timeout is {TIMEOUT:?}"
        );
    }
    let timeouts = |listener, phase| {
        service.metric(
            "dmarcflow_listener_timeouts_total",
            &[("listener", listener), ("phase", phase)],
        )
    };
    assert_eq!(timeouts("http", "header"), 200.0);
    assert_eq!(timeouts("http", "tls_handshake"), 200.0);
    assert_eq!(timeouts("smtp", "data"), 200.0);
    assert_eq!(timeouts("smtp", "tls_handshake"), 100.0);
    assert!(service.running());
    let (code, _) = service.stop();
    assert_eq!(code, Some(0), "{}", service.stderr());
    assert_eq!(
        service.query("SELECT group_concat(reporter_report_id) FROM aggregate_reports"),
        "beside-the-slow"
    );
    assert_eq!(
        service.query("SELECT group_concat(reporter_report_id) FROM tlsrpt_reports"),
        "beside-the-slow"
    );
}
