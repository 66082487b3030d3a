//! Applies the numbered migrations of `schemas/sqlite/` not yet recorded in
//! `dmarcflow_migrations`, each in its own transaction.
//!
//! Several processes may open a new file at once (`run` and a `query`
//! beside it): each migration's transaction takes the write lock before it
//! reads the ledger (IMMEDIATE), so the second process waits (the busy
//! timeout) and then finds the migration done. A deferred transaction
//! would read first and fail its upgrade to a writer at once (WAL mode
//! does not wait for a snapshot that went stale).

use dmarcflow_schemas::ddl::SQLITE;
use rusqlite::{params, Connection, TransactionBehavior};

use crate::StoreError;

/// Returns the names of the migrations applied now.
pub fn migrate(conn: &mut Connection) -> Result<Vec<&'static str>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS dmarcflow_migrations \
         (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )?;
    let mut applied = Vec::new();
    for m in SQLITE {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM dmarcflow_migrations WHERE version = ?1)",
            [m.version],
            |row| row.get(0),
        )?;
        if done {
            continue;
        }
        tx.execute_batch(m.sql).map_err(|e| StoreError::Migration {
            name: m.name.to_owned(),
            message: e.to_string(),
        })?;
        tx.execute(
            "INSERT INTO dmarcflow_migrations (version, name, applied_at) VALUES (?1, ?2, unixepoch())",
            params![m.version, m.name],
        )?;
        tx.commit()?;
        applied.push(m.name);
    }
    Ok(applied)
}
