//! What only the store's insides can show: a batch that fails half way
//! leaves nothing behind. The rest of its tests are in `store/tests/`.

use super::SqliteStore;
use dmarcflow_testkit::reports::{generated, ingested};

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
