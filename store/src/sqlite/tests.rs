//! The embedded store against the same assertions as ClickHouse.

use super::SqliteStore;
use crate::test_support::{assert_stored, corpus_reports, generated, in_parts, ingested, totals};
use crate::Store;

#[tokio::test]
async fn corpus_twice_is_stored_once() {
    let Some(reports) = corpus_reports() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("store.db");
    let mut store = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut first = crate::WriteSummary::default();
    for batch in reports.chunks(40) {
        first += store.write(batch).unwrap_or_else(|e| panic!("{e}"));
    }
    // Reopened (migrations run again: nothing to do), then the replay.
    drop(store);
    let mut store = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut second = crate::WriteSummary::default();
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

#[test]
fn a_failed_batch_leaves_nothing() {
    let mut store = SqliteStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    // Break the records table so the batch fails half way.
    store
        .conn
        .execute_batch("CREATE TRIGGER fail_once BEFORE INSERT ON aggregate_records WHEN NEW.record_index = 5 BEGIN SELECT RAISE(ABORT, 'injected'); END;")
        .unwrap_or_else(|e| panic!("{e}"));
    let batch = [ingested(generated(1, 10))];
    assert!(store.write(&batch).is_err());
    store
        .conn
        .execute_batch("DROP TRIGGER fail_once")
        .unwrap_or_else(|e| panic!("{e}"));
    let n: i64 = store
        .conn
        .query_row("SELECT count(*) FROM aggregate_records", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 0, "the failed transaction left rows");
    let retried = store.write(&batch).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((retried.reports, retried.rows), (1, 11));
}
