//! `dmarcflow ingest` -> Kafka -> `dmarcflow sink` -> the store, against a
//! real Kafka-protocol broker (`$DMARCFLOW_KAFKA_BROKERS`, default
//! 127.0.0.1:9092; `.ci/run` starts Apache Kafka, `.ci/kafka.sh`). Without a broker the tests skip,
//! except under CI (`CI=true`), where that fails. Each test uses topics and a
//! consumer group of its own.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use rdkafka::message::Message;

struct Env {
    dir: tempfile::TempDir,
    brokers: String,
    prefix: String,
}

impl Env {
    fn new(name: &str) -> Option<Self> {
        let brokers = dmarcflow_testkit::services::kafka_brokers()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Some(Self {
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
            brokers,
            prefix: format!("test-{name}-{nanos}"),
        })
    }

    fn dmarcflow(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
            .args(args)
            .current_dir(self.dir.path())
            .env("DMARCFLOW_KAFKA_BROKERS", &self.brokers)
            .env("DMARCFLOW_KAFKA_TOPIC_PREFIX", &self.prefix)
            .env("DMARCFLOW_KAFKA_GROUP", format!("{}-sink", self.prefix))
            .env("DMARCFLOW_SQLITE_PATH", self.dir.path().join("store.db"))
            .env("DMARCFLOW_BATCH_MAX_AGE_MS", "200")
            .env_remove("DMARCFLOW_CLICKHOUSE_URL")
            .env_remove("DMARCFLOW_CONFIG")
            .output()
            .unwrap_or_else(|e| panic!("running dmarcflow: {e}"))
    }

    fn query(&self, sql: &str) -> String {
        let out = self.dmarcflow(&["query", sql]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    }

    /// (reason header, origin header) of every dead letter.
    fn dead_letters(&self) -> Vec<(String, String)> {
        common::read_topic(
            &self.brokers,
            &format!("{}.dead-letter", self.prefix),
            &format!("{}-dlq-reader", self.prefix),
        )
        .iter()
        .map(|m| {
            (
                common::header(m, "dmarcflow-reason"),
                common::header(m, "dmarcflow-origin"),
            )
        })
        .collect()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn corpus_through_kafka_is_stored_once() {
    let (Some(env), Some(corpus)) = (Env::new("corpus"), dmarcflow_testkit::corpus::root()) else {
        return;
    };
    let corpus = corpus.display().to_string();
    let first = env.dmarcflow(&["ingest", &corpus]);
    let log = stderr(&first);
    assert!(
        log.contains("187 inputs read (0 already done), 161 reports published, 34 rejected"),
        "{log}"
    );
    // A rerun publishes nothing: the state file remembers.
    let again = env.dmarcflow(&["ingest", &corpus]);
    assert!(
        stderr(&again).contains("0 inputs read (187 already done)"),
        "{}",
        stderr(&again)
    );

    let sink = env.dmarcflow(&["sink", "--until-idle", "5"]);
    assert_eq!(sink.status.code(), Some(0), "{}", stderr(&sink));
    assert!(
        stderr(&sink).contains("161 messages: 100 reports stored, 61 already stored"),
        "{}",
        stderr(&sink)
    );

    // Republish everything (state lost): the sink stores nothing new.
    std::fs::remove_file(env.dir.path().join("dmarcflow-ingest.state"))
        .unwrap_or_else(|e| panic!("{e}"));
    env.dmarcflow(&["ingest", &corpus]);
    let replay = env.dmarcflow(&["sink", "--until-idle", "5"]);
    assert!(
        stderr(&replay).contains("0 reports stored, 161 already stored"),
        "{}",
        stderr(&replay)
    );

    assert_eq!(
        env.query("SELECT count(*) FROM aggregate_reports"),
        corpus_aggregates().to_string()
    );
    let letters = env.dead_letters();
    assert_eq!(letters.len(), 68, "34 rejects, published twice");
    assert!(
        letters
            .iter()
            .all(|(reason, origin)| !reason.is_empty() && !origin.is_empty()),
        "{letters:?}"
    );
}

/// The distinct aggregate reports of the parsed corpus.
fn corpus_aggregates() -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(["parse", "--no-progress"])
        .arg(dmarcflow_testkit::corpus::root().unwrap_or_default())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let ids: std::collections::HashSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "aggregate")
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    ids.len()
}

#[test]
fn a_large_report_travels_in_parts() {
    let Some(env) = Env::new("parts") else { return };
    let record =
        "<record><row><source_ip>192.0.2.RR</source_ip><count>2</count></row><identifiers>\
<header_from>big.example</header_from></identifiers><auth_results><spf><domain>big.example</domain>\
<result>pass</result></spf></auth_results></record>";
    let records: String = (0..20_000)
        .map(|i| record.replace("RR", &(i % 250).to_string()))
        .collect();
    let xml = format!(
        "<feedback><report_metadata><org_name>Big</org_name><email>a@big.example</email><report_id>p1</report_id>\
<date_range><begin>1704067200</begin><end>1704153599</end></date_range></report_metadata><policy_published>\
<domain>big.example</domain></policy_published>{records}</feedback>"
    );
    let path: &Path = &env.dir.path().join("big.xml");
    std::fs::write(path, xml).unwrap_or_else(|e| panic!("{e}"));
    let ingest = env.dmarcflow(&["ingest", "big.xml"]);
    assert!(
        stderr(&ingest).contains("1 reports published"),
        "{}",
        stderr(&ingest)
    );
    let sink = env.dmarcflow(&["sink", "--until-idle", "5"]);
    let log = stderr(&sink);
    // 20,000 records of ~300 bytes of JSON: several messages of < 900 kB.
    let summary = log.lines().last().unwrap_or_default();
    let messages: u64 = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(messages >= 5, "{log}");
    assert!(log.contains("1 reports stored"), "{log}");
    assert_eq!(
        env.query("SELECT record_count, message_count FROM aggregate_reports"),
        "20000\t40000"
    );
    assert_eq!(
        env.query("SELECT count(*), sum(message_count) FROM aggregate_records"),
        "20000\t40000"
    );
}

#[test]
fn a_stopped_sink_writes_its_batch_first() {
    let (Some(env), Some(corpus)) = (Env::new("stop"), dmarcflow_testkit::corpus::root()) else {
        return;
    };
    let corpus = corpus.display().to_string();
    env.dmarcflow(&["ingest", &corpus]);
    // Batches wait a minute: only the stop can write this one.
    let sink = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .arg("sink")
        .current_dir(env.dir.path())
        .env("DMARCFLOW_KAFKA_BROKERS", &env.brokers)
        .env("DMARCFLOW_KAFKA_TOPIC_PREFIX", &env.prefix)
        .env("DMARCFLOW_KAFKA_GROUP", format!("{}-sink", env.prefix))
        .env("DMARCFLOW_SQLITE_PATH", env.dir.path().join("store.db"))
        .env("DMARCFLOW_BATCH_MAX_AGE_MS", "60000")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(env.query("SELECT count(*) FROM aggregate_reports"), "0");
    let term = Command::new("kill")
        .args(["-TERM", &sink.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(term.success());
    let out = sink.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sink stopped: batch written, offsets committed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.query("SELECT count(*) FROM aggregate_reports"), "66");
    // Committed: a new sink finds nothing left.
    let again = env.dmarcflow(&["sink", "--until-idle", "3"]);
    assert!(stderr(&again).contains("0 messages"), "{}", stderr(&again));
}

#[test]
fn the_raw_archive_keeps_every_input() {
    let Some(env) = Env::new("archive") else {
        return;
    };
    std::fs::create_dir(env.dir.path().join("in")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        env.dir.path().join("in/a.eml"),
        "Subject: a\r\n\r\nnot a report\r\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        env.dir.path().join("in/b.eml"),
        "Subject: b\r\n\r\nnor this\r\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(["ingest", "in"])
        .current_dir(env.dir.path())
        .env("DMARCFLOW_KAFKA_BROKERS", &env.brokers)
        .env("DMARCFLOW_KAFKA_TOPIC_PREFIX", &env.prefix)
        .env("DMARCFLOW_KAFKA_ARCHIVE_RAW", "true")
        .env_remove("DMARCFLOW_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(stderr(&out).contains("2 inputs read"), "{}", stderr(&out));
    let mut bodies: Vec<String> = common::read_topic(
        &env.brokers,
        &format!("{}.raw", env.prefix),
        &format!("{}-raw-reader", env.prefix),
    )
    .iter()
    .map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned())
    .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            "Subject: a\r\n\r\nnot a report\r\n",
            "Subject: b\r\n\r\nnor this\r\n"
        ]
    );
}
