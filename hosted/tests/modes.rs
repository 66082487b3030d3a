//! The stored MTA-STS modes on real stores (SQLite, and ClickHouse at
//! `$DMARCFLOW_CLICKHOUSE_URL`: a skip without it outside CI, a failure
//! under CI): the newest change of each domain wins.

use dmarcflow_hosted::mta_sts::{modes, Mode};
use dmarcflow_store::{Store, StoreConfig};
use dmarcflow_testkit::clickhouse::both_stores;

async fn check(config: &StoreConfig) {
    let mut store = Store::open(config).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(modes::load(&store)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    for (domain, mode, version) in [
        ("example.com", Mode::Testing, 1),
        ("Example.org", Mode::None, 2),
        ("example.com", Mode::Enforce, 3),
    ] {
        modes::set(&mut store, domain, mode, version)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let stored = modes::load(&store).await.unwrap_or_else(|e| panic!("{e}"));
    let stored: Vec<(&str, Mode)> = stored.iter().map(|(d, m)| (d.as_str(), *m)).collect();
    assert_eq!(
        stored,
        [("example.com", Mode::Enforce), ("example.org", Mode::None)]
    );
}

#[tokio::test]
async fn the_newest_mode_wins_in_sqlite_and_clickhouse() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for store in both_stores(dir.path(), "mta_sts_modes").await {
        check(&store).await;
    }
}
