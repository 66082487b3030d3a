//! `dmarcflow migrate` for ClickHouse: creates the database, then applies the
//! numbered migrations of `schemas/clickhouse/` not yet recorded in
//! `dmarcflow_migrations`. Every statement is idempotent (`IF NOT EXISTS`,
//! `MODIFY SETTING`), so a migration cut short is simply run again. Servers
//! without `ADD COLUMN IF NOT EXISTS` (18.16) get the statement without it
//! when `system.columns` lacks the column (`AddColumn`).

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
    let statements = match cluster {
        Some(c) => super::cluster::migration(&m.statements(), c, database, m.version)?,
        None => m.statements(),
    };
    {
        for statement in statements {
            let failed = |e: clickhouse::error::Error| StoreError::Migration {
                name: m.name.to_owned(),
                message: e.to_string(),
            };
            let statement = match AddColumn::parse(&statement) {
                Some(add) => {
                    let (db, table) = add.table.split_once('.').unwrap_or((database, add.table));
                    let present: u64 = client
                        .query(
                            "SELECT count() FROM system.columns \
                             WHERE database = ? AND table = ? AND name = ?",
                        )
                        .bind(db)
                        .bind(table)
                        .bind(add.column)
                        .fetch_one()
                        .await
                        .map_err(failed)?;
                    if present > 0 {
                        continue;
                    }
                    add.without_if_not_exists
                }
                None => statement,
            };
            client.query(&statement).execute().await.map_err(failed)?;
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

/// `ALTER TABLE t [ON CLUSTER c] ADD COLUMN IF NOT EXISTS name type`.
#[derive(Debug, PartialEq, Eq)]
struct AddColumn<'a> {
    table: &'a str,
    column: &'a str,
    without_if_not_exists: String,
}

impl<'a> AddColumn<'a> {
    fn parse(statement: &'a str) -> Option<Self> {
        const MARK: &str = " ADD COLUMN IF NOT EXISTS ";
        let (head, tail) = statement.split_once(MARK)?;
        let table = head
            .strip_prefix("ALTER TABLE ")?
            .split_whitespace()
            .next()?;
        let column = tail.split_whitespace().next()?;
        Some(Self {
            table,
            column,
            without_if_not_exists: format!("{head} ADD COLUMN {tail}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::AddColumn;

    #[test]
    fn add_column_without_if_not_exists() {
        assert_eq!(
            AddColumn::parse(
                "ALTER TABLE db.r_local ON CLUSTER c ADD COLUMN IF NOT EXISTS source_asn UInt32"
            ),
            Some(AddColumn {
                table: "db.r_local",
                column: "source_asn",
                without_if_not_exists:
                    "ALTER TABLE db.r_local ON CLUSTER c ADD COLUMN source_asn UInt32".into(),
            })
        );
        assert_eq!(AddColumn::parse("ALTER TABLE r MODIFY SETTING x = 1"), None);
    }
}
