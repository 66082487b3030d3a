//! Cluster mode against a real cluster: two ClickHouse servers as two
//! replicas of one shard, coordinated by Debian's ZooKeeper
//! (`.ci/clickhouse-cluster.sh`, found through
//! `DMARCFLOW_CLICKHOUSE_CLUSTER_TEST_*`). Without it the test skips,
//! except under CI where it fails.

use std::time::{Duration, Instant};

mod support;

use dmarcflow_store::clickhouse::{connect, migrate, ClickHouseConfig, ClickHouseSink};
use dmarcflow_store::Store;
use dmarcflow_testkit::reports::corpus_reports;
use dmarcflow_testkit::services::missing;
use support::{assert_stored, totals, write_all};

struct Cluster {
    urls: Vec<String>,
    name: String,
    stop_second: String,
    start_second: String,
}

fn cluster() -> Option<Cluster> {
    let var = |name: &str| std::env::var(format!("DMARCFLOW_CLICKHOUSE_CLUSTER_TEST_{name}")).ok();
    let Some(urls) = var("URLS") else {
        return missing(
            "ClickHouse cluster (DMARCFLOW_CLICKHOUSE_CLUSTER_TEST_URLS)",
            "run .ci/clickhouse-cluster.sh and source its env",
        );
    };
    Some(Cluster {
        urls: urls.split(',').map(str::to_owned).collect(),
        name: var("NAME").unwrap_or_else(|| "dmarcflow".into()),
        stop_second: var("STOP_2").unwrap_or_default(),
        start_second: var("START_2").unwrap_or_default(),
    })
}

fn run(script: &str) {
    let status = std::process::Command::new(script)
        .status()
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    assert!(status.success(), "{script}: {status}");
}

/// One number from a replica's own tables.
async fn number(store: &Store, sql: &str) -> u64 {
    let t = store
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    t.rows[0][0].parse().unwrap_or(u64::MAX)
}

/// What a replica holds locally, table by table (with a checksum of the
/// records' identities).
async fn local_state(store: &Store) -> Vec<u64> {
    let mut out = Vec::new();
    for table in [
        "aggregate_reports",
        "aggregate_records",
        "failure_reports",
        "tlsrpt_reports",
        "tlsrpt_policies",
        "tlsrpt_failures",
        "aggregate_by_source_daily",
        "tlsrpt_by_result_daily",
    ] {
        out.push(number(store, &format!("SELECT count() FROM {table}_local")).await);
    }
    out.push(
        number(
            store,
            "SELECT sum(messages) FROM aggregate_by_source_daily_local",
        )
        .await,
    );
    out.push(
        number(
            store,
            "SELECT sum(cityHash64(report_id, record_index)) FROM aggregate_records_local",
        )
        .await,
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn written_through_one_replica_read_the_same_from_the_other() {
    let Some(cluster) = cluster() else {
        return;
    };
    let Some(reports) = corpus_reports() else {
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let config = |url: &str| {
        let mut c = ClickHouseConfig::new(url);
        c.database = format!("dmarcflow_cluster_{nanos}");
        c.cluster = Some(cluster.name.clone());
        c
    };
    let (first, second) = (config(&cluster.urls[0]), config(&cluster.urls[1]));
    let (server, version) = connect(&first).await.unwrap_or_else(|e| panic!("{e}"));
    let applied = migrate(&server, &first.database, version, Some(&cluster.name))
        .await
        .unwrap_or_else(|e| panic!("migrate on the cluster: {e}"));
    assert!(!applied.applied.is_empty());
    // Idempotent, from the other replica too.
    let (server2, _) = connect(&second).await.unwrap_or_else(|e| panic!("{e}"));
    let again = migrate(&server2, &second.database, version, Some(&cluster.name))
        .await
        .unwrap_or_else(|e| panic!("migrate again: {e}"));
    assert!(again.applied.is_empty(), "{again:?}");

    let sink = ClickHouseSink::connect(first.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let half = reports.len() / 2;
    write_all(&sink, &reports[..half]).await;
    // The other replica stops mid-stream; writing goes on through the first.
    run(&cluster.stop_second);
    write_all(&sink, &reports[half..]).await;
    let replay = write_all(&sink, &reports).await;
    assert_eq!(
        (replay.reports, replay.rows),
        (0, 0),
        "the replay stored something"
    );
    run(&cluster.start_second);

    let expected = totals(&reports);
    let one = Store::ClickHouse(Box::new(sink));
    assert_stored(&one, &expected).await;
    let two = Store::ClickHouse(Box::new(
        ClickHouseSink::connect(second)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    ));
    // Once the second replica caught up, it holds the same, row for row.
    let want = local_state(&one).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let have = local_state(&two).await;
        if have == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second replica did not catch up: {have:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(want[1], expected.records, "records on each replica");
    assert_stored(&two, &expected).await;
    let drop = format!(
        "DROP DATABASE IF EXISTS {} ON CLUSTER {}",
        first.database, cluster.name
    );
    server
        .query(&drop)
        .execute()
        .await
        .unwrap_or_else(|e| panic!("{drop}: {e}"));
}
