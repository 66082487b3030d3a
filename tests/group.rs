//! The sink's consumer group on the real broker (Apache Kafka, from
//! `.ci/kafka.sh`) writing to the real ClickHouse, under load:
//! - scale-out and scale-in: three sinks, a fourth joining and one leaving
//!   mid-stream;
//! - a sink frozen (SIGSTOP) past its session timeout;
//! - a sink whose store hangs past `max.poll.interval.ms` (a proxy in front
//!   of ClickHouse that holds the replies).
//!
//! Each ends with exactly one copy of every report in ClickHouse, no record
//! twice, and the group's committed offsets at the end of every partition
//! (lag zero, no partition left unconsumed). Needs the broker and
//! ClickHouse; skips without them, except under CI.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ReportIds, Rig};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

/// Generated emails: one aggregate report each, 1 to 50 records.
const EMAILS: usize = 2_500;

/// A rig with `EMAILS` generated emails in `inbox/`, migrated, and the
/// report ids parsing them gives.
fn loaded(name: &str) -> Option<(Rig, ReportIds)> {
    let mut rig = Rig::new(name)?;
    rig.env
        .push(("DMARCFLOW_BATCH_MAX_ROWS".into(), "400".into()));
    // Short sessions so that a stalled sink loses its partitions quickly
    // (6 s is the broker's group.min.session.timeout.ms).
    rig.env.push((
        "DMARCFLOW_KAFKA_LIBRDKAFKA".into(),
        "session.timeout.ms=6000,max.poll.interval.ms=7000".into(),
    ));
    let inbox = rig.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap_or_else(|e| panic!("{e}"));
    let mut generator = dmarcflow_testkit::Generator::new(13);
    for (i, email) in generator.emails(EMAILS).into_iter().enumerate() {
        std::fs::write(inbox.join(format!("{i:05}.eml")), email).unwrap_or_else(|e| panic!("{e}"));
    }
    rig.run(&["migrate"]);
    let mut ids = ReportIds::default();
    ids.add(&rig.run(&["parse", "--no-progress", "inbox"]));
    assert_eq!(ids.aggregate.len(), EMAILS);
    Some((rig, ids))
}

/// A sink of the group with an instance id of its own; its log is
/// `sink-<n>.log`. The rig kills it if the test fails.
fn sink(rig: &Rig, n: u32, env: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(rig.path().join(format!("sink-{n}.log")))
        .unwrap_or_else(|e| panic!("{e}"));
    let err = log.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let mut command = rig.command(&["sink"]);
    command
        .env(
            "DMARCFLOW_KAFKA_INSTANCE_ID",
            format!("{}-sink-{n}", rig.prefix),
        )
        .envs(env.iter().copied())
        .stdout(log)
        .stderr(err);
    rig.spawn_command(command)
}

fn log(rig: &Rig, n: u32) -> String {
    std::fs::read_to_string(rig.path().join(format!("sink-{n}.log"))).unwrap_or_default()
}

fn stored(rig: &Rig) -> u64 {
    rig.count("SELECT count() FROM aggregate_reports")
}

/// Waits until ClickHouse holds `reports` aggregate reports (mid-stream).
fn until_stored(rig: &Rig, reports: u64) {
    wait_for(
        rig,
        &format!("{reports} reports stored"),
        Duration::from_secs(120),
        || stored(rig) >= reports,
    );
}

/// Waits until `done` holds, polling; panics after `limit` with every log
/// of the rig (the sinks' and the ingest's).
fn wait_for(rig: &Rig, what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "{what}: not within {limit:?}; {} stored; offsets {:?}\n{}",
            stored(rig),
            group_offsets(rig),
            rig.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Per report topic partition: (committed offset of the sink group, high
/// watermark).
fn group_offsets(rig: &Rig) -> Vec<(String, i32, i64, i64)> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &rig.brokers)
        .set("group.id", format!("{}-sink", rig.prefix))
        .create()
        .unwrap_or_else(|e| panic!("{e}"));
    let timeout = Duration::from_secs(10);
    let mut list = TopicPartitionList::new();
    let mut out = Vec::new();
    for kind in ["aggregate", "failure", "tlsrpt"] {
        let topic = format!("{}.{kind}", rig.prefix);
        let metadata = consumer
            .fetch_metadata(Some(&topic), timeout)
            .unwrap_or_else(|e| panic!("{e}"));
        for t in metadata.topics() {
            for p in t.partitions() {
                list.add_partition(&topic, p.id());
                let (_, high) = consumer
                    .fetch_watermarks(&topic, p.id(), timeout)
                    .unwrap_or_else(|e| panic!("{e}"));
                out.push((topic.clone(), p.id(), -1, high));
            }
        }
    }
    let committed = consumer
        .committed_offsets(list, timeout)
        .unwrap_or_else(|e| panic!("{e}"));
    for (topic, partition, offset, _) in &mut out {
        if let Some(Offset::Offset(o)) = committed
            .find_partition(topic, *partition)
            .map(|e| e.offset())
        {
            *offset = o;
        }
    }
    out
}

/// The group has committed the end of every partition that holds messages.
fn caught_up(rig: &Rig) -> bool {
    group_offsets(rig)
        .iter()
        .all(|(_, _, committed, high)| *high == 0 || committed == high)
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
}

fn stop(mut child: Child) {
    signal(&child, "TERM");
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "a sink stopped with {status}");
}

/// The end state every test must reach: every report once, no record
/// twice, the daily aggregation counted once, lag zero.
fn assert_once_and_caught_up(rig: &Rig, ids: &ReportIds) {
    wait_for(rig, "every report stored", Duration::from_secs(240), || {
        stored(rig) >= ids.aggregate.len() as u64
    });
    wait_for(rig, "the group caught up", Duration::from_secs(120), || {
        caught_up(rig)
    });
    rig.assert_stored_once(ids);
    assert_eq!(
        rig.count("SELECT count() FROM (SELECT report_id, record_index FROM aggregate_records GROUP BY report_id, record_index HAVING count() > 1)"),
        0,
        "records stored twice"
    );
    assert_eq!(
        rig.count("SELECT sum(messages) FROM aggregate_by_source_daily"),
        rig.count("SELECT sum(message_count) FROM aggregate_reports"),
        "the daily aggregation"
    );
    let offsets = group_offsets(rig);
    assert!(
        offsets
            .iter()
            .any(|(t, _, c, h)| t.ends_with(".aggregate") && *c > 0 && c == h),
        "{offsets:?}"
    );
    let partitions_with_reports = offsets
        .iter()
        .filter(|(t, _, _, h)| t.ends_with(".aggregate") && *h > 0)
        .count();
    assert_eq!(partitions_with_reports, 6, "{offsets:?}");
}

#[test]
fn sinks_joining_and_leaving_under_load_store_every_report_once() {
    let Some((rig, ids)) = loaded("group-scale") else {
        return;
    };
    let total = ids.aggregate.len() as u64;
    let sinks: Vec<Child> = (1..=3).map(|n| sink(&rig, n, &[])).collect();
    let mut ingest = rig.spawn(&["ingest", "inbox"]);

    // A fourth sink joins mid-stream, then the first leaves.
    until_stored(&rig, total / 10);
    let fourth = sink(&rig, 4, &[]);
    until_stored(&rig, total * 4 / 10);
    let at_leave = stored(&rig);
    let mut sinks = sinks.into_iter();
    let first = sinks.next().unwrap_or_else(|| panic!("three sinks"));
    stop(first);
    assert!(
        at_leave < total,
        "the stream ended before the first sink left: {at_leave} of {total}"
    );

    let status = ingest.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.code().is_some_and(|c| c < 2), "ingest: {status}");
    assert_once_and_caught_up(&rig, &ids);

    // The newcomer took part: it was assigned partitions and stored some.
    let fourth_log = log(&rig, 4);
    assert!(
        fourth_log.contains("partitions assigned") && fourth_log.contains("batch stored"),
        "{fourth_log}"
    );
    for sink in sinks.chain([fourth]) {
        stop(sink);
    }
    assert!(
        log(&rig, 2).contains("partitions revoked"),
        "no rebalance reached sink 2"
    );
}

#[test]
fn a_sink_frozen_past_its_session_timeout_neither_loses_nor_doubles() {
    let Some((rig, ids)) = loaded("group-frozen") else {
        return;
    };
    let total = ids.aggregate.len() as u64;
    let frozen = sink(&rig, 1, &[]);
    let other = sink(&rig, 2, &[]);
    let mut ingest = rig.spawn(&["ingest", "inbox"]);
    until_stored(&rig, total / 10);
    signal(&frozen, "STOP");
    // Past the 6 s session: the group gives its partitions to the other.
    std::thread::sleep(Duration::from_secs(10));
    signal(&frozen, "CONT");
    let status = ingest.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.code().is_some_and(|c| c < 2), "ingest: {status}");
    assert_once_and_caught_up(&rig, &ids);
    let other_log = log(&rig, 2);
    assert!(
        other_log.matches("partitions assigned").count() >= 2,
        "the other sink never took the frozen one's partitions:\n{other_log}"
    );
    stop(frozen);
    stop(other);
}

/// A TCP proxy to `target` that, while `hold` is set, forwards requests but
/// holds every reply: a store that hangs after taking the work.
fn holding_proxy(target: String, hold: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map_or(0, |a| a.port());
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&target) else {
                continue;
            };
            let (Ok(client_in), Ok(server_out)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            std::thread::spawn(move || copy(client_in, server_out, None));
            let hold = hold.clone();
            std::thread::spawn(move || copy(server, client, Some(hold)));
        }
    });
    port
}

fn copy(mut from: TcpStream, mut to: TcpStream, hold: Option<Arc<AtomicBool>>) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while hold.as_ref().is_some_and(|h| h.load(Ordering::SeqCst)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

#[test]
fn a_sink_whose_store_hangs_past_max_poll_interval_neither_loses_nor_doubles() {
    let Some((rig, ids)) = loaded("group-hung") else {
        return;
    };
    let total = ids.aggregate.len() as u64;
    let hold = Arc::new(AtomicBool::new(false));
    let target = rig
        .clickhouse
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let port = holding_proxy(target, hold.clone());
    let url = format!("http://127.0.0.1:{port}");
    let hung = sink(&rig, 1, &[("DMARCFLOW_CLICKHOUSE_URL", url.as_str())]);
    let other = sink(&rig, 2, &[]);
    let mut ingest = rig.spawn(&["ingest", "inbox"]);
    until_stored(&rig, total / 10);
    // Replies held past max.poll.interval.ms (7 s): the hung sink's write
    // cannot finish, it stops polling, the group moves its partitions.
    hold.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(12));
    hold.store(false, Ordering::SeqCst);
    let status = ingest.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.code().is_some_and(|c| c < 2), "ingest: {status}");
    assert_once_and_caught_up(&rig, &ids);
    let hung_log = log(&rig, 1);
    assert!(
        hung_log.contains("rewound"),
        "the hung sink did not give its batch up:\n{hung_log}"
    );
    stop(hung);
    stop(other);
}
