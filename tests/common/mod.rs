//! Shared by the binary's integration tests that run the pipeline against
//! real servers (each test binary uses what it needs).
#![allow(dead_code)]

pub mod peak_rss;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message, OwnedMessage};

/// The binary, run in `dir`, with none of the environment's `DMARCFLOW_*`
/// settings (CI exports a ClickHouse URL for other tests): only its config
/// file and what the test sets on the command speak.
pub fn isolated(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DMARCFLOW_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs the binary in `dir` on the embedded store alone: none of the
/// environment's servers, config or webhooks reach it. Whether it
/// succeeded, its stdout and its stderr.
pub fn embedded(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = isolated(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[allow(unused_imports)]
pub use dmarcflow_testkit::ports::free_port;

/// Whether `tool` is on the PATH (or in ~/.cargo/bin); missing under CI
/// is a failure, elsewhere a skip.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args([
            "-c",
            &format!("command -v {tool} || test -x $HOME/.cargo/bin/{tool}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("CI").is_err(),
        "{tool} is missing under CI"
    );
    found
}

/// Waits (up to 30 s) for something to listen on a loopback port.
pub fn wait_for(port: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A self-signed certificate for `name` made by openssl: `cert.pem` and
/// `key.pem` in `dir`.
pub fn certificate(dir: &Path, name: &str) {
    let at = |file: &str| dir.join(file).display().to_string();
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            &format!("subjectAltName=DNS:{name}"),
            "-keyout",
            &at("key.pem"),
            "-out",
            &at("cert.pem"),
        ])
        .output()
        .unwrap_or_else(|e| panic!("openssl: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Delivers the email in `mail` with swaks to the SMTP listener on
/// `port` (over STARTTLS with `tls`): whether swaks succeeded, and its
/// transcript. Debian's swaks (2020) has --tls but no certificate
/// verification options.
pub fn swaks(port: u16, mail: &Path, tls: bool) -> (bool, String) {
    let mut c = Command::new("swaks");
    c.args(["--server", &format!("127.0.0.1:{port}")]);
    if tls {
        c.arg("--tls");
    }
    let out = c
        .args([
            "--from",
            "reports@mail.example",
            "--to",
            "dmarc@example.com",
        ])
        .args(["--data", &format!("@{}", mail.display()), "--timeout", "60"])
        .output()
        .unwrap_or_else(|e| panic!("swaks: {e}"));
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), log)
}

/// A TLS report (JSON) with this report id: 10 successful sessions, 2
/// failed with certificate-expired at mx.example.com.
pub fn tls_report(id: &str) -> String {
    format!(
        r#"{{"organization-name":"Mail Co","date-range":{{"start-datetime":"2024-01-01T00:00:00Z","end-datetime":"2024-01-01T23:59:59Z"}},"contact-info":"tls@mail.example","report-id":"{id}","policies":[{{"policy":{{"policy-type":"sts","policy-string":["version: STSv1"],"policy-domain":"example.com","mx-host":["mx.example.com"]}},"summary":{{"total-successful-session-count":10,"total-failure-session-count":2}},"failure-details":[{{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.9","receiving-mx-hostname":"mx.example.com","failed-session-count":2}}]}}]}}"#
    )
}

/// POSTs the TLS report in `report` with curl to
/// `https://localhost:{port}/`, trusting `cacert`: the body and the status
/// code at its end, and curl's stderr.
pub fn post_tls_report(port: u16, cacert: &Path, report: &Path) -> (String, String) {
    let post = Command::new("curl")
        .args(["-sS", "--max-time", "30", "--cacert"])
        .arg(cacert)
        .args(["-o", "-", "-w", "%{http_code}"])
        .args([
            "-H",
            "Content-Type: application/tlsrpt+json",
            "--data-binary",
            &format!("@{}", report.display()),
        ])
        .arg(format!("https://localhost:{port}/"))
        .output()
        .unwrap_or_else(|e| panic!("curl: {e}"));
    (
        String::from_utf8_lossy(&post.stdout).into_owned(),
        String::from_utf8_lossy(&post.stderr).into_owned(),
    )
}

/// A working directory, Kafka topics, a consumer group and a ClickHouse
/// database of the test's own, and the `dmarcflow` commands using them.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub brokers: String,
    pub clickhouse: String,
    pub prefix: String,
    pub database: String,
    /// More environment for every command (a source's settings).
    pub env: Vec<(String, String)>,
    /// Services started, killed when the rig goes while a test is failing
    /// (it must not leave them running).
    spawned: std::sync::Mutex<Vec<u32>>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        // Only when failing: a passing test waited for its services, and
        // their pids may belong to someone else by now.
        if !std::thread::panicking() {
            return;
        }
        let pids = self.spawned.lock().map(|p| p.clone()).unwrap_or_default();
        for pid in pids {
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Rig {
    /// None (skip) when the broker or ClickHouse is missing outside CI.
    pub fn new(name: &str) -> Option<Self> {
        let brokers = dmarcflow_testkit::services::kafka_brokers()?;
        let clickhouse = dmarcflow_testkit::services::service(
            "DMARCFLOW_CLICKHOUSE_URL",
            "http://127.0.0.1:8123",
        )?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos());
        Some(Self {
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
            brokers,
            clickhouse,
            prefix: format!("{name}-{nanos}"),
            database: format!("dmarcflow_{name}_{nanos}"),
            env: Vec::new(),
            spawned: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("DMARCFLOW_KAFKA_BROKERS", &self.brokers)
            .env("DMARCFLOW_KAFKA_TOPIC_PREFIX", &self.prefix)
            .env("DMARCFLOW_KAFKA_GROUP", format!("{}-sink", self.prefix))
            .env(
                "DMARCFLOW_KAFKA_INSTANCE_ID",
                format!("{}-sink-1", self.prefix),
            )
            .env("DMARCFLOW_CLICKHOUSE_URL", &self.clickhouse)
            .env("DMARCFLOW_CLICKHOUSE_DATABASE", &self.database)
            .env("DMARCFLOW_BATCH_MAX_AGE_MS", "100")
            .env_remove("DMARCFLOW_SMTP_LISTEN")
            .env_remove("DMARCFLOW_HTTP_LISTEN")
            .env_remove("DMARCFLOW_IMAP_HOST")
            .env_remove("DMARCFLOW_CONFIG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Starts a service; its output goes to `<command>.log` in the rig's
    /// directory (a pipe nobody reads would stall it), see [`Rig::logs`].
    pub fn spawn(&self, args: &[&str]) -> Child {
        let name = args.first().copied().unwrap_or("dmarcflow");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("{name}.log")))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = log.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let mut command = self.command(args);
        command.stdout(log).stderr(err);
        self.spawn_command(command)
    }

    /// Starts `command` (one of [`Rig::command`], adjusted) as a service
    /// the rig kills if the test fails.
    pub fn spawn_command(&self, mut command: Command) -> Child {
        let child = command.spawn().unwrap_or_else(|e| panic!("{e}"));
        if let Ok(mut spawned) = self.spawned.lock() {
            spawned.push(child.id());
        }
        child
    }

    /// The last lines each spawned service wrote, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(30)..].join("\n");
                out.push_str(&format!("--- {}\n{tail}\n", path.display()));
            }
        }
        out
    }

    /// Runs to the end; exit status 0 or 1 (inputs rejected), stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The single number a query returns.
    pub fn count(&self, sql: &str) -> u64 {
        self.run(&["query", sql])
            .lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(u64::MAX)
    }

    /// ClickHouse holds exactly one copy of every report in `ids`.
    pub fn assert_stored_once(&self, ids: &ReportIds) {
        for (table, kind) in [
            ("aggregate_reports", &ids.aggregate),
            ("failure_reports", &ids.failure),
            ("tlsrpt_reports", &ids.tlsrpt),
        ] {
            assert_eq!(
                self.count(&format!("SELECT count() FROM {table}")),
                kind.len() as u64,
                "{table}"
            );
        }
        assert_eq!(
            self.count("SELECT uniqExact(report_id) FROM aggregate_reports"),
            ids.aggregate.len() as u64
        );
    }
}

/// Report identities by kind, from `dmarcflow parse` output.
#[derive(Debug, Default)]
pub struct ReportIds {
    pub aggregate: HashSet<String>,
    pub failure: HashSet<String>,
    pub tlsrpt: HashSet<String>,
}

impl ReportIds {
    /// Adds every report of some `dmarcflow parse` output; how many lines.
    pub fn add(&mut self, parsed: &str) -> usize {
        let mut lines = 0;
        for line in parsed.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let id = v["id"].as_str().unwrap_or_default().to_owned();
            match v["kind"].as_str() {
                Some("aggregate") => self.aggregate.insert(id),
                Some("failure") => self.failure.insert(id),
                _ => self.tlsrpt.insert(id),
            };
            lines += 1;
        }
        lines
    }
}

/// Every message of `topic` from its beginning, read (in a consumer group
/// of its own, `group`) until nothing more came for five seconds.
pub fn read_topic(brokers: &str, topic: &str, group: &str) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap_or_else(|e| panic!("{e}"));
    consumer
        .subscribe(&[topic])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let mut idle = 0;
    while idle < 10 {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => {
                idle = 0;
                out.push(m.detach());
            }
            Some(Err(e)) => panic!("{e}"),
            None => idle += 1,
        }
    }
    out
}

/// A message header as text ("" when absent).
pub fn header(message: &OwnedMessage, name: &str) -> String {
    message
        .headers()
        .and_then(|h| h.iter().find(|x| x.key == name).and_then(|x| x.value))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default()
}

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves no server behind.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One webhook POST on `stream`: its JSON body (null when it is not JSON),
/// answered 204.
pub fn webhook_post(stream: &mut std::net::TcpStream) -> serde_json::Value {
    use std::io::{Read, Write};
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let mut body = serde_json::Value::Null;
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("Content-Length: ")
                        .or(l.strip_prefix("content-length: "))
                })
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if rest.len() >= length {
                body = serde_json::from_str(rest).unwrap_or_default();
                break;
            }
        }
    }
    let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
    body
}
