//! `dmarcflow migrate` for ClickHouse: creates the database, then applies the
//! numbered migrations of `schemas/clickhouse/` not yet recorded in
//! `dmarcflow_migrations`. Every statement is idempotent (`IF NOT EXISTS`,
//! `MODIFY SETTING`), so a migration cut short is simply run again.

use clickhouse::Client;
use dmarcflow_schemas::ddl::{Migration, CLICKHOUSE};

use super::ServerVersion;
use crate::StoreError;

/// What a migration run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: Vec<&'static str>,
    pub already: Vec<&'static str>,
    /// Needing a newer server; applied by a later run after an upgrade.
    pub skipped: Vec<&'static str>,
}

/// The ledger of applied migrations.
pub const LEDGER: &str = "CREATE TABLE IF NOT EXISTS dmarcflow_migrations \
     (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version";
/// What the ledger holds.
pub const LEDGER_READ: &str = "SELECT version FROM dmarcflow_migrations";
/// A migration applied (`?` bound to its version and name).
pub const LEDGER_WRITE: &str =
    "INSERT INTO dmarcflow_migrations (version, name, applied_at) VALUES (?, ?, now())";

/// Applies what is missing; with `cluster`, every statement runs on the
/// cluster in its replicated/distributed form (`cluster.rs`).
pub async fn migrate(
    server: &Client,
    database: &str,
    version: ServerVersion,
    cluster: Option<&str>,
) -> Result<MigrationReport, StoreError> {
    let on_cluster = cluster.map_or(String::new(), |c| format!(" ON CLUSTER {c}"));
    server
        .query(&format!(
            "CREATE DATABASE IF NOT EXISTS `{database}`{on_cluster}"
        ))
        .execute()
        .await?;
    let client = server.clone().with_database(database);
    match cluster {
        Some(c) => {
            client
                .query(&super::cluster::ledger(c, database))
                .execute()
                .await?
        }
        None => client.query(LEDGER).execute().await?,
    }
    let done: Vec<u32> = client.query(LEDGER_READ).fetch_all().await?;
    let mut report = MigrationReport::default();
    for m in CLICKHOUSE {
        if done.contains(&m.version) {
            report.already.push(m.name);
            continue;
        }
        if m.min_server_version().is_some_and(|min| version.0 < min) {
            report.skipped.push(m.name);
            continue;
        }
        apply(&client, m, cluster, database).await?;
        report.applied.push(m.name);
    }
    Ok(report)
}

async fn apply(
    client: &Client,
    m: &Migration,
    cluster: Option<&str>,
    database: &str,
) -> Result<(), StoreError> {
    for statement in m.statements() {
        let statements = match cluster {
            Some(c) => super::cluster::rewrite(&statement, c, database, m.version)?,
            None => vec![statement],
        };
        for statement in statements {
            client
                .query(&statement)
                .execute()
                .await
                .map_err(|e| StoreError::Migration {
                    name: m.name.to_owned(),
                    message: e.to_string(),
                })?;
        }
    }
    client
        .query(LEDGER_WRITE)
        .bind(m.version)
        .bind(m.name)
        .execute()
        .await?;
    Ok(())
}
