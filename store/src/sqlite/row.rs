//! One row to insert, each column named beside its value. The statement
//! is built from the names, so a column and its value cannot drift apart
//! (as two parallel lists, names and `?N`, could), and the groups of
//! columns several tables share (a source's enrichment, the verdict on the
//! report email, the ingest metadata) are written once.

use rusqlite::{params_from_iter, ToSql, Transaction};

use crate::values::{ReporterColumns, SourceColumns};

/// The ingest metadata of one report.
pub struct Meta<'a> {
    pub origin: &'a str,
    pub received_at: i64,
    pub auth: ReporterColumns<'a>,
}

pub struct Row<'v> {
    columns: Vec<&'static str>,
    values: Vec<&'v dyn ToSql>,
}

/// Room for the widest table's columns (failure reports: 47).
const WIDEST: usize = 48;

impl<'v> Row<'v> {
    pub fn new() -> Self {
        Self {
            columns: Vec::with_capacity(WIDEST),
            values: Vec::with_capacity(WIDEST),
        }
    }

    pub fn with(mut self, column: &'static str, value: &'v dyn ToSql) -> Self {
        self.columns.push(column);
        self.values.push(value);
        self
    }

    /// The `source_*` columns of an enriched address.
    pub fn source(self, s: &'v SourceColumns<'_>) -> Self {
        self.with("source_ptr", &s.ptr)
            .with("source_ptr_confirmed", &s.ptr_confirmed)
            .with("source_base_domain", &s.base_domain)
            .with("source_name", &s.name)
            .with("source_type", &s.kind)
            .with("source_asn", &s.asn)
            .with("source_as_name", &s.as_name)
            .with("source_as_domain", &s.as_domain)
            .with("source_country", &s.country)
            .with("source_lookup_failed", &s.lookup_failed)
            .with("source_identified_by", &s.identified_by)
    }

    /// Where a report came from, when, and the `reporter_*` verdict on its
    /// email.
    pub fn ingest(self, meta: &'v Meta<'_>) -> Self {
        let auth = &meta.auth;
        self.with("origin", &meta.origin)
            .with("ingested_at", &meta.received_at)
            .with("reporter_auth", &auth.auth)
            .with("reporter_dkim", &auth.dkim)
            .with("reporter_dkim_domain", &auth.dkim_domain)
            .with("reporter_spf", &auth.spf)
            .with("reporter_authenticated", &auth.authenticated)
    }

    /// `INSERT OR IGNORE INTO table (…) VALUES (?, …)` for these columns.
    fn sql(&self, table: &str) -> String {
        let marks = vec!["?"; self.columns.len()].join(", ");
        format!(
            "INSERT OR IGNORE INTO {table} ({}) VALUES ({marks})",
            self.columns.join(", ")
        )
    }

    /// Inserted into `table`: 1, or 0 when its key is already there.
    pub fn insert(&self, tx: &Transaction<'_>, table: &str) -> rusqlite::Result<usize> {
        self.insert_as(tx, table, &mut String::new())
    }

    /// The same for a run of rows of one table with the same columns (a
    /// report's records): the statement is built for the first and kept in
    /// `sql` for the others.
    pub fn insert_as(
        &self,
        tx: &Transaction<'_>,
        table: &str,
        sql: &mut String,
    ) -> rusqlite::Result<usize> {
        if sql.is_empty() {
            *sql = self.sql(table);
        }
        tx.prepare_cached(sql)?
            .execute(params_from_iter(self.values.iter()))
    }
}
