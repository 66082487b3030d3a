//! The embedded store against the same assertions as ClickHouse.

mod support;

use dmarcflow_store::sqlite::SqliteStore;
use dmarcflow_store::{Store, WriteSummary};
use dmarcflow_testkit::reports::{corpus_reports, generated, in_parts, ingested};
use support::{assert_stored, totals};

#[tokio::test]
async fn corpus_twice_is_stored_once() {
    let Some(reports) = corpus_reports() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("store.db");
    let mut store = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut first = WriteSummary::default();
    for batch in reports.chunks(40) {
        first += store.write(batch).unwrap_or_else(|e| panic!("{e}"));
    }
    // Reopened (migrations run again: nothing to do), then the replay.
    drop(store);
    let mut store = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut second = WriteSummary::default();
    for batch in reports.chunks(40) {
        second += store.write(batch).unwrap_or_else(|e| panic!("{e}"));
    }
    let expected = totals(&reports);
    assert_eq!(
        first.reports,
        expected.aggregate_reports + expected.failure_reports + expected.tls_reports
    );
    assert_eq!((second.reports, second.rows), (0, 0));
    assert_stored(&Store::Sqlite(store), &expected).await;
}

#[tokio::test]
async fn parts_and_replays_are_stored_once() {
    let mut store = SqliteStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let big = generated(3, 2500);
    let parts = in_parts(&big, 1000);
    let small = ingested(generated(1, 10));
    store.write(&parts[..1]).unwrap_or_else(|e| panic!("{e}"));
    store
        .write(&[small.clone(), small.clone()])
        .unwrap_or_else(|e| panic!("{e}"));
    store.write(&parts).unwrap_or_else(|e| panic!("{e}"));
    let again = store.write(&parts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.reports, again.rows), (0, 0));
    let mut all = parts.clone();
    all.push(small);
    let expected = totals(&all);
    assert_eq!((expected.aggregate_reports, expected.records), (2, 2510));
    let store = Store::Sqlite(store);
    assert_stored(&store, &expected).await;
    let header = store
        .query(&format!(
            "SELECT record_count FROM aggregate_reports WHERE report_id = '{}'",
            big.id
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(header.rows, [["2500"]]);
}

#[tokio::test]
async fn personal_columns_are_replaced_once() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = dmarcflow_store::StoreConfig::Sqlite {
        path: dir.path().join("store.db"),
    };
    let mut store = Store::open(&config).await.unwrap_or_else(|e| panic!("{e}"));
    support::personal_columns_are_replaced_once(&mut store).await;
}
