//! The fault test: the whole shared corpus (five copies, so it takes a
//! while) flows files -> `dmarcflow ingest` -> Kafka -> `dmarcflow sink` ->
//! ClickHouse while both processes are killed with SIGKILL at random moments
//! and restarted, several rounds, and the broker itself is killed with
//! SIGKILL mid-stream and restarted on the same storage in two of them
//! (`DMARCFLOW_KAFKA_TEST_STOP`/`_START`, from `.ci/kafka.sh`; required under
//! CI). ClickHouse must end with exactly one copy of
//! every report, and every rejected input must be in the dead-letter topic
//! with its reason. Needs the broker and ClickHouse (`.ci/run` starts both);
//! skips without them, except under CI.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use common::{ReportIds, Rig};

use rdkafka::message::Message;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn killed_and_restarted_pipeline_stores_every_report_once() {
    let Some(mut rig) = Rig::new("fault") else {
        return;
    };
    rig.env
        .push(("DMARCFLOW_BATCH_MAX_ROWS".into(), "500".into()));
    let Some(corpus) = dmarcflow_testkit::corpus::root() else {
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    for copy in 0..5 {
        copy_dir(&corpus, &rig.dir.path().join(format!("inbox/{copy}")));
    }
    rig.run(&["migrate"]);

    // The truth: what parsing the inputs gives.
    let parsed = rig.run(&[
        "parse",
        "--no-progress",
        "--rejects",
        "rejects.jsonl",
        "inbox",
    ]);
    let mut ids = ReportIds::default();
    ids.add(&parsed);
    let rejects = std::fs::read_to_string(rig.dir.path().join("rejects.jsonl")).unwrap_or_default();
    let rejected_paths: HashSet<String> = rejects
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["path"].as_str().map(str::to_owned))
        .collect();

    let broker = dmarcflow_testkit::services::kafka_outage();
    // Seeded from the clock (printed, to replay a failure).
    let mut random = dmarcflow_testkit::Rng::new(nanos);
    eprintln!("fault test seed {nanos}");
    for round in 0..6 {
        let mut ingest = rig.spawn(&["ingest", "inbox"]);
        let mut sink = rig.spawn(&["sink"]);
        std::thread::sleep(Duration::from_millis(100 + random.below(900)));
        // The broker dies under them (SIGKILL) and comes back on its storage.
        if let (Some(outage), 1 | 4) = (&broker, round) {
            outage.stop();
            std::thread::sleep(Duration::from_millis(random.below(1000)));
            outage.start();
            std::thread::sleep(Duration::from_millis(random.below(1000)));
        }
        // Kill one or both, the other shortly after.
        let (first, second) = if round % 2 == 0 {
            (&mut ingest, &mut sink)
        } else {
            (&mut sink, &mut ingest)
        };
        let _ = first.kill();
        std::thread::sleep(Duration::from_millis(random.below(300)));
        let _ = second.kill();
        let _ = ingest.wait();
        let _ = sink.wait();
    }
    // Then let both finish.
    rig.run(&["ingest", "inbox"]);
    rig.run(&["sink", "--until-idle", "5"]);

    rig.assert_stored_once(&ids);
    assert_eq!(
        rig.count("SELECT count() FROM (SELECT report_id, record_index FROM aggregate_records GROUP BY report_id, record_index HAVING count() > 1)"),
        0
    );
    assert_eq!(
        rig.count("SELECT sum(messages) FROM aggregate_by_source_daily"),
        rig.count("SELECT sum(message_count) FROM aggregate_reports")
    );

    // Every rejected input is in the dead-letter topic, with a reason.
    let mut lettered = HashSet::new();
    for m in common::read_topic(
        &rig.brokers,
        &format!("{}.dead-letter", rig.prefix),
        &format!("{}-dlq", rig.prefix),
    ) {
        let reason = common::header(&m, "dmarcflow-reason");
        assert!(!reason.is_empty(), "a dead letter without a reason");
        if let Some(key) = m.key() {
            lettered.insert(String::from_utf8_lossy(key).into_owned());
        }
    }
    let relative: HashSet<String> = lettered
        .iter()
        .map(|p| {
            p.trim_start_matches(&format!("{}/", rig.dir.path().display()))
                .to_owned()
        })
        .collect();
    let missing: Vec<_> = rejected_paths
        .iter()
        .filter(|p| !relative.contains(*p) && !lettered.contains(*p))
        .collect();
    assert!(
        missing.is_empty(),
        "rejected inputs missing from the dead-letter topic: {missing:?}"
    );
}
