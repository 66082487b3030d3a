//! A fresh, migrated ClickHouse database for a crate's tests that run the
//! same checks on both stores (feature `store`): the service from the
//! environment (`$DMARCFLOW_CLICKHOUSE_URL`; a skip outside CI, a failure
//! under CI when missing), the database dropped and migrated anew.

use dmarcflow_store::clickhouse::{connect, migrate, ClickHouseConfig};
use dmarcflow_store::StoreConfig;

use crate::services::service;

/// `database` on the environment's ClickHouse, empty and migrated; None
/// (skip) without a server outside CI.
pub async fn fresh(database: &str) -> Option<StoreConfig> {
    let url = service("DMARCFLOW_CLICKHOUSE_URL", "http://127.0.0.1:8123")?;
    let mut config = ClickHouseConfig::new(url);
    config.database = database.to_owned();
    let (server, version) = connect(&config).await.unwrap_or_else(|e| panic!("{e}"));
    server
        .query(&format!("DROP DATABASE IF EXISTS {database}"))
        .execute()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    migrate(&server, database, version, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Some(StoreConfig::ClickHouse(config))
}

/// The stores a check that must hold on both runs against, in order: a
/// SQLite file `<name>.db` in `dir`, then `dmarcflow_test_<name>` on the
/// environment's ClickHouse, fresh and migrated (left out without a server
/// outside CI, as [`fresh`]).
pub async fn both_stores(dir: &std::path::Path, name: &str) -> Vec<StoreConfig> {
    let mut stores = vec![StoreConfig::Sqlite {
        path: dir.join(format!("{name}.db")),
    }];
    stores.extend(fresh(&format!("dmarcflow_test_{name}")).await);
    stores
}
