//! Dovecot -> `dmarcflow ingest` (the IMAP source) -> Kafka -> `dmarcflow
//! sink` -> ClickHouse, with real servers: Dovecot from `.ci/dovecot.sh`
//! (`DMARCFLOW_IMAP_TEST_*`), the broker (`DMARCFLOW_KAFKA_BROKERS`) and
//! ClickHouse (`DMARCFLOW_CLICKHOUSE_URL`). Without them the test skips,
//! except under CI, where it fails.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dmarcflow_ingest::imap::{connect, roots_from_pem, ImapConfig, ImapSession, Security};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Every service, or None (skip) outside CI.
fn services() -> Option<(ImapConfig, String, String)> {
    let brokers = var("DMARCFLOW_KAFKA_BROKERS");
    let clickhouse = var("DMARCFLOW_CLICKHOUSE_URL");
    let host = var("DMARCFLOW_IMAP_TEST_HOST");
    let (Some(brokers), Some(clickhouse), Some(host)) = (brokers, clickhouse, host) else {
        assert!(
            std::env::var("CI").is_err(),
            "the IMAP test needs Dovecot, the broker and ClickHouse under CI"
        );
        eprintln!("skipping: needs DMARCFLOW_IMAP_TEST_*, DMARCFLOW_KAFKA_BROKERS and DMARCFLOW_CLICKHOUSE_URL");
        return None;
    };
    let ca = var("DMARCFLOW_IMAP_TEST_CA").unwrap_or_default();
    let tls = roots_from_pem(Path::new(&ca)).unwrap_or_else(|e| panic!("{ca}: {e}"));
    let mut config = ImapConfig::new(
        host,
        var("DMARCFLOW_IMAP_TEST_USER").unwrap_or_default(),
        var("DMARCFLOW_IMAP_TEST_PASSWORD").unwrap_or_default(),
        tls,
    );
    config.security = Security::Tls;
    config.port = var("DMARCFLOW_IMAP_TEST_TLS_PORT")
        .and_then(|p| p.parse().ok())
        .unwrap_or(993);
    Some((config, brokers, clickhouse))
}

fn corpus_emails() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut found = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "eml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

struct Rig {
    dir: tempfile::TempDir,
    config: ImapConfig,
    brokers: String,
    clickhouse: String,
    prefix: String,
    database: String,
    mailbox: String,
}

impl Rig {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("DMARCFLOW_KAFKA_BROKERS", &self.brokers)
            .env("DMARCFLOW_KAFKA_TOPIC_PREFIX", &self.prefix)
            .env("DMARCFLOW_KAFKA_GROUP", format!("{}-sink", self.prefix))
            .env("DMARCFLOW_KAFKA_INSTANCE_ID", "imap-sink-1")
            .env("DMARCFLOW_CLICKHOUSE_URL", &self.clickhouse)
            .env("DMARCFLOW_CLICKHOUSE_DATABASE", &self.database)
            .env("DMARCFLOW_BATCH_MAX_AGE_MS", "100")
            .env("DMARCFLOW_IMAP_HOST", &self.config.host)
            .env("DMARCFLOW_IMAP_PORT", self.config.port.to_string())
            .env("DMARCFLOW_IMAP_USERNAME", &self.config.username)
            .env("DMARCFLOW_IMAP_PASSWORD", &self.config.password)
            .env(
                "DMARCFLOW_IMAP_CA_FILE",
                var("DMARCFLOW_IMAP_TEST_CA").unwrap_or_default(),
            )
            .env("DMARCFLOW_IMAP_MAILBOXES", &self.mailbox)
            .env(
                "DMARCFLOW_IMAP_PROCESSED_FOLDER",
                format!("{}-done", self.mailbox),
            )
            .env(
                "DMARCFLOW_IMAP_INVALID_FOLDER",
                format!("{}-invalid", self.mailbox),
            )
            .env_remove("DMARCFLOW_SMTP_LISTEN")
            .env_remove("DMARCFLOW_HTTP_LISTEN")
            .env_remove("DMARCFLOW_CONFIG");
        c
    }

    fn run(&self, args: &[&str]) -> String {
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

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn count(&self, sql: &str) -> u64 {
        self.run(&["query", sql])
            .lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(u64::MAX)
    }
}

async fn messages(session: &mut ImapSession, mailbox: &str) -> usize {
    session
        .select(mailbox)
        .await
        .unwrap_or_else(|e| panic!("select {mailbox}: {e}"));
    let n = session
        .search("ALL")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .len();
    let _ = session.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_appended_to_dovecot_lands_in_clickhouse_and_is_moved_after_the_ack() {
    let Some((config, brokers, clickhouse)) = services() else {
        return;
    };
    let emails = corpus_emails();
    assert!(!emails.is_empty(), "no .eml in the corpus");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos());
    let rig = Rig {
        dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
        config,
        brokers,
        clickhouse,
        prefix: format!("imap-{nanos}"),
        database: format!("dmarcflow_imap_{nanos}"),
        mailbox: format!("rua-{nanos}"),
    };
    rig.run(&["migrate"]);

    // The truth: what parsing the same emails gives, email by email.
    let mut ids = [HashSet::new(), HashSet::new(), HashSet::new()];
    let mut with_reports = 0;
    for email in &emails {
        let path = email.display().to_string();
        let parsed = rig.run(&[
            "parse",
            "--no-progress",
            "--rejects",
            "rejects.jsonl",
            &path,
        ]);
        with_reports += usize::from(!parsed.trim().is_empty());
        for line in parsed.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let slot = match v["kind"].as_str() {
                Some("aggregate") => 0,
                Some("failure") => 1,
                _ => 2,
            };
            ids[slot].insert(v["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert!(!ids[0].is_empty() && !ids[1].is_empty() && !ids[2].is_empty());

    let mut admin = connect(&rig.config).await.unwrap_or_else(|e| panic!("{e}"));
    admin
        .create(&rig.mailbox)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for email in &emails {
        let data = std::fs::read(email).unwrap_or_else(|e| panic!("{e}"));
        admin
            .append(&rig.mailbox, None, None, &data)
            .await
            .unwrap_or_else(|e| panic!("append {}: {e}", email.display()));
    }

    let mut ingest = rig.spawn(&["ingest"]);
    let mut sink = rig.spawn(&["sink"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = format!("{}-done", rig.mailbox);
    let invalid = format!("{}-invalid", rig.mailbox);
    loop {
        let waiting = messages(&mut admin, &rig.mailbox).await;
        let stored = rig.count("SELECT count() FROM aggregate_reports");
        if waiting == 0 && stored == ids[0].len() as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} messages still waiting, {stored} aggregate reports stored"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // SIGTERM: the ingester settles its round and logs out.
    let _ = Command::new("kill").arg(ingest.id().to_string()).status();
    let _ = Command::new("kill").arg(sink.id().to_string()).status();
    let ingest_status = ingest.wait().unwrap_or_else(|e| panic!("{e}"));
    let _ = sink.wait();
    assert!(
        ingest_status.success(),
        "ingest exits cleanly on SIGTERM: {ingest_status}"
    );

    assert_eq!(
        messages(&mut admin, &done).await,
        with_reports,
        "every email with a report is in the processed folder"
    );
    assert_eq!(
        messages(&mut admin, &invalid).await,
        emails.len() - with_reports,
        "every email without one is in the invalid folder"
    );
    assert_eq!(
        rig.count("SELECT uniqExact(report_id) FROM aggregate_reports"),
        ids[0].len() as u64
    );
    assert_eq!(
        rig.count("SELECT count() FROM failure_reports"),
        ids[1].len() as u64
    );
    assert_eq!(
        rig.count("SELECT count() FROM tlsrpt_reports"),
        ids[2].len() as u64
    );
}
