//! The embedded store: one SQLite file (rusqlite, bundled SQLite), the same
//! logical tables as ClickHouse, the daily aggregations kept by triggers.
//! Split by concern: `migrate` (DDL of `schemas/sqlite/`), `writer` (a
//! batch in one transaction, duplicates skipped by unique keys), `query`.

mod migrate;
mod query;
mod row;
mod writer;

#[cfg(test)]
mod tests;

use std::path::Path;

use dmarcflow_lease::Lease;
use dmarcflow_schemas::Ingested;
use rusqlite::Connection;

use crate::{StoreError, Table, WriteSummary};

pub use migrate::migrate;

pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// A private in-memory database (tests, benchmarks).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        // WAL lets `dmarcflow query` read while a run writes; FULL makes a
        // committed batch survive power loss (a batch is acknowledged only
        // once committed).
        // The busy timeout first: switching a new file to WAL takes a lock
        // another process opening it may hold.
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// Writes a batch in one transaction: all of it or none of it.
    pub fn write(&mut self, batch: &[Ingested<'_>]) -> Result<WriteSummary, StoreError> {
        writer::write(&mut self.conn, batch, &Lease::unbounded())
    }

    /// `write`, committed only while `lease` holds.
    pub fn write_leased(
        &mut self,
        batch: &[Ingested<'_>],
        lease: &Lease,
    ) -> Result<WriteSummary, StoreError> {
        writer::write(&mut self.conn, batch, lease)
    }

    pub fn query(&self, sql: &str) -> Result<Table, StoreError> {
        query::query(&self.conn, sql)
    }

    /// Statements that return nothing (the alerts' state), in one
    /// transaction.
    pub fn execute(&mut self, sql: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.commit()?;
        Ok(())
    }

    /// Overwrites what rows replaced since the file was opened leave
    /// behind: the old text in free pages (`VACUUM` rebuilds the file) and
    /// in the write-ahead log (checkpointed and truncated). After
    /// `dmarcflow privacy apply`, no clear copy stays on disk.
    pub fn forget_replaced(&mut self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        self.conn.execute_batch("VACUUM")?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}
