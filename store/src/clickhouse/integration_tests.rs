//! Against a real ClickHouse server (`$DMARCFLOW_CLICKHOUSE_URL`, default
//! `http://127.0.0.1:8123`; `.ci/run` starts one). Without a server the
//! tests skip, except under CI (`CI=true`) where that is a failure. Each
//! test works in a database of its own, dropped first.

use super::{connect, migrate, ClickHouseConfig, ClickHouseSink};
use crate::test_support::{
    assert_stored, corpus_reports, generated, in_parts, ingested, totals, Totals,
};
use crate::{Store, WriteSummary};

pub fn url() -> String {
    std::env::var("DMARCFLOW_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:8123".into())
}

/// A fresh, migrated database `dmarcflow_test_<name>`, or None (skip).
pub async fn fresh(name: &str) -> Option<ClickHouseConfig> {
    let mut config = ClickHouseConfig::new(url());
    config.database = format!("dmarcflow_test_{name}");
    let (server, version) = match connect(&config).await {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "no ClickHouse at {} under CI: {e}",
                config.url
            );
            eprintln!("skipping: no ClickHouse at {}: {e}", config.url);
            return None;
        }
    };
    let drop = format!("DROP DATABASE IF EXISTS {}", config.database);
    server
        .query(&drop)
        .execute()
        .await
        .unwrap_or_else(|e| panic!("{drop}: {e}"));
    migrate(&server, &config.database, version)
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    Some(config)
}

async fn write_all(
    sink: &ClickHouseSink,
    reports: &[dmarcflow_schemas::Ingested<'_>],
) -> WriteSummary {
    let mut total = WriteSummary::default();
    for batch in reports.chunks(40) {
        total += sink
            .write(batch)
            .await
            .unwrap_or_else(|e| panic!("write: {e}"));
    }
    total
}

#[tokio::test]
async fn migrations_apply_twice() {
    let Some(config) = fresh("migrations").await else {
        return;
    };
    let (server, version) = connect(&config).await.unwrap_or_else(|e| panic!("{e}"));
    let again = migrate(&server, &config.database, version)
        .await
        .unwrap_or_else(|e| panic!("second migrate: {e}"));
    assert!(again.applied.is_empty(), "{again:?}");
    assert_eq!(
        again.already.len() + again.skipped.len(),
        dmarcflow_schemas::ddl::CLICKHOUSE.len()
    );
    if version.0 < (22, 2) {
        assert_eq!(again.skipped, ["0004_insert_dedup_window.sql"]);
    }
}

#[tokio::test]
async fn corpus_twice_is_stored_once() {
    let Some(config) = fresh("corpus").await else {
        return;
    };
    let Some(reports) = corpus_reports() else {
        return;
    };
    let sink = ClickHouseSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = write_all(&sink, &reports).await;
    let second = write_all(&sink, &reports).await;
    let expected = totals(&reports);
    assert!(
        expected.aggregate_reports > 50 && expected.tls_reports > 5 && expected.failure_reports > 5,
        "{expected:?}"
    );
    assert_eq!(
        first.reports,
        expected.aggregate_reports + expected.failure_reports + expected.tls_reports
    );
    assert_eq!(
        (second.reports, second.rows),
        (0, 0),
        "the replay stored something"
    );
    assert_stored(&Store::ClickHouse(Box::new(sink)), &expected).await;
}

#[tokio::test]
async fn retried_batch_after_failure_is_stored_once() {
    let Some(config) = fresh("retry").await else {
        return;
    };
    let sink = ClickHouseSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let whole = vec![ingested(generated(1, 700)), ingested(generated(2, 30))];
    // A failure after the records went in and before the report rows: the
    // retry must not insert the records again.
    let grouped: Vec<_> = whole
        .iter()
        .filter_map(|i| match &i.report {
            dmarcflow_schemas::Report::Aggregate(r) => Some((
                r,
                super::encoder::Meta {
                    origin: "t",
                    ingested_at: 0,
                },
            )),
            _ => None,
        })
        .collect();
    let mut ignored = WriteSummary::default();
    sink.write_aggregate_records(&grouped[..1], &mut ignored)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let retried = sink.write(&whole).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(retried.reports, 2);
    // A large report in parts, the first part delivered twice, then all
    // parts again (a redelivery after a crash).
    let big = generated(3, 2500);
    let parts = in_parts(&big, 1000);
    sink.write(&parts[..1])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sink.write(&parts[..1])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sink.write(&parts).await.unwrap_or_else(|e| panic!("{e}"));
    let again = sink.write(&parts).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.reports, again.rows), (0, 0));
    let mut all = whole.clone();
    all.extend(parts);
    let expected: Totals = totals(&all);
    assert_eq!(expected.aggregate_reports, 3);
    assert_eq!(expected.records, 3230);
    let store = Store::ClickHouse(Box::new(sink));
    assert_stored(&store, &expected).await;
    let header = store
        .query(&format!(
            "SELECT record_count, message_count FROM aggregate_reports WHERE report_id = '{}'",
            big.id
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        header.rows,
        [[2500.to_string(), big.message_count().to_string()]]
    );
}

#[tokio::test]
async fn values_read_back() {
    let Some(config) = fresh("values").await else {
        return;
    };
    let sink = ClickHouseSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut report = generated(4, 2);
    report.records[0].source_ip = "2001:db8::7".into();
    report.records[1].disposition = Some(dmarcflow_schemas::aggregate::Disposition::Other(
        "weird".into(),
    ));
    report.policy_published.p = Some(dmarcflow_schemas::aggregate::PolicyAction::Reject);
    sink.write(&[ingested(report)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = Store::ClickHouse(Box::new(sink));
    let t = store
        .query(&format!(
            "SELECT {}, toString(disposition), other_values, message_count \
                 FROM aggregate_records ORDER BY record_index",
            crate::summary::clickhouse_ip_text("source_ip")
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.rows[0][0], "2001:db8::7");
    assert_eq!(t.rows[1][0], "198.51.100.1");
    assert_eq!(t.rows[1][1], "other");
    assert_eq!(t.rows[1][2], "['disposition=weird']");
    let p = store
        .query("SELECT toString(p), toString(date_begin) FROM aggregate_reports")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.rows, [["reject", "2024-01-01 00:00:00"]]);
}
