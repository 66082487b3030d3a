//! The ClickHouse sink: writes batches of reports as RowBinary inserts
//! (lz4), children first and report rows last, skipping what is stored
//! (`dedup.rs`), retrying transient failures with backoff (the whole batch
//! write is re-run, dedup included, so a retry never doubles a row).

use std::collections::HashSet;

use clickhouse::{Client, RowWrite};
use dmarcflow_schemas::aggregate::AggregateReport;
use dmarcflow_schemas::failure::FailureReport;
use dmarcflow_schemas::identity::IdentityHasher;
use dmarcflow_schemas::tlsrpt::TlsReport;
use dmarcflow_schemas::{Ingested, Report};

use super::config::ClickHouseConfig;
use super::dedup::{present, present_sql, records_present, records_present_sql, strings, times};
use super::encoder::{self, Meta};
use super::{connect, ServerVersion};
use crate::{StoreError, WriteSummary};
use dmarcflow_lease::Lease;

pub struct ClickHouseSink {
    client: Client,
    config: ClickHouseConfig,
    version: ServerVersion,
    /// What the write in progress runs under (`write_leased`).
    lease: Lease,
}

/// A batch grouped by kind, duplicates inside the batch dropped.
struct Grouped<'b> {
    aggregate: Vec<(&'b AggregateReport<'b>, Meta<'b>)>,
    failure: Vec<(&'b FailureReport<'b>, Meta<'b>)>,
    tlsrpt: Vec<(&'b TlsReport<'b>, Meta<'b>)>,
    duplicates: u64,
}

impl ClickHouseSink {
    /// Connects (asks the server's version) to the configured database.
    pub async fn connect(config: ClickHouseConfig) -> Result<Self, StoreError> {
        let (server, version) = connect(&config).await?;
        Ok(Self {
            client: server.with_database(&config.database),
            config,
            version,
            lease: Lease::unbounded(),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn server_version(&self) -> ServerVersion {
        self.version
    }

    /// `write` under `lease`: every row sent and every insert finished is
    /// checked against it, and an insert whose lease ran out is dropped
    /// unfinished (the server discards it).
    pub async fn write_leased(
        &mut self,
        batch: &[Ingested<'_>],
        lease: &Lease,
    ) -> Result<WriteSummary, StoreError> {
        self.lease = lease.clone();
        let written = self.write(batch).await;
        self.lease = Lease::unbounded();
        written
    }

    /// Writes one batch, retrying transient failures per the retry policy.
    pub async fn write(&self, batch: &[Ingested<'_>]) -> Result<WriteSummary, StoreError> {
        let policy = self.config.retry;
        let mut attempt = 1;
        loop {
            match self.write_once(batch).await {
                Ok(summary) => return Ok(summary),
                Err(e) if e.is_transient() && attempt < policy.attempts => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "clickhouse write failed; retrying");
                    tokio::time::sleep(policy.backoff(attempt)).await;
                }
                Err(e) if e.is_transient() => {
                    return Err(StoreError::RetriesExhausted {
                        attempts: attempt,
                        last: Box::new(e),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn write_once(&self, batch: &[Ingested<'_>]) -> Result<WriteSummary, StoreError> {
        let grouped = group(batch);
        let mut summary = WriteSummary {
            duplicates: grouped.duplicates,
            ..WriteSummary::default()
        };
        self.write_aggregate(&grouped.aggregate, &mut summary)
            .await?;
        self.write_tlsrpt(&grouped.tlsrpt, &mut summary).await?;
        self.write_failure(&grouped.failure, &mut summary).await?;
        Ok(summary)
    }

    async fn write_aggregate(
        &self,
        reports: &[(&AggregateReport<'_>, Meta<'_>)],
        summary: &mut WriteSummary,
    ) -> Result<(), StoreError> {
        let complete = self.complete_aggregates(reports).await?;
        let pending: Vec<_> = reports
            .iter()
            .filter(|(r, _)| !complete.contains(&r.id))
            .copied()
            .collect();
        self.write_records(&pending, summary).await?;
        let rows: Vec<_> = pending
            .iter()
            .filter(|(r, _)| r.is_final())
            .map(|(r, meta)| encoder::aggregate_report(r, *meta))
            .collect();
        summary.duplicates += reports
            .iter()
            .filter(|(r, _)| complete.contains(&r.id) && r.is_final())
            .count() as u64;
        summary.reports += rows.len() as u64;
        self.insert::<encoder::AggregateReportRow<'static>>("aggregate_reports", &rows, summary)
            .await
    }

    /// The reports whose report row is stored (complete: skipped whole).
    async fn complete_aggregates(
        &self,
        reports: &[(&AggregateReport<'_>, Meta<'_>)],
    ) -> Result<HashSet<String>, StoreError> {
        let ids: Vec<&str> = reports.iter().map(|(r, _)| &*r.id).collect();
        present(
            &self.client,
            "aggregate_reports",
            &aggregate_keys(reports),
            &ids,
        )
        .await
    }

    /// The records of incomplete reports, from where each stopped.
    async fn write_records(
        &self,
        pending: &[(&AggregateReport<'_>, Meta<'_>)],
        summary: &mut WriteSummary,
    ) -> Result<(), StoreError> {
        let ids: Vec<&str> = pending.iter().map(|(r, _)| &*r.id).collect();
        let stored = records_present(&self.client, &aggregate_keys(pending), &ids).await?;
        let mut rows = Vec::new();
        for (r, _) in pending {
            let first = r.first_record();
            let have = stored.get(&r.id).copied().unwrap_or(0);
            for (i, rec) in r.records.iter().enumerate() {
                let index = first + i as u64;
                if index >= have {
                    rows.push(encoder::aggregate_record(r, index, rec));
                }
            }
        }
        self.insert::<encoder::AggregateRecordRow<'static>>("aggregate_records", &rows, summary)
            .await
    }

    async fn write_tlsrpt(
        &self,
        reports: &[(&TlsReport<'_>, Meta<'_>)],
        summary: &mut WriteSummary,
    ) -> Result<(), StoreError> {
        let keys = tlsrpt_keys(reports);
        let ids: Vec<&str> = reports.iter().map(|(r, _)| &*r.id).collect();
        let complete = present(&self.client, "tlsrpt_reports", &keys, &ids).await?;
        let pending: Vec<_> = reports
            .iter()
            .filter(|(r, _)| !complete.contains(&r.id))
            .collect();
        summary.duplicates += (reports.len() - pending.len()) as u64;
        // A report present in a child table is there whole (one insert each).
        let keys = tlsrpt_child_keys(pending.iter().map(|(r, _)| *r));
        let ids: Vec<&str> = pending
            .iter()
            .filter(|(r, _)| !r.policies.is_empty())
            .map(|(r, _)| &*r.id)
            .collect();
        let with_policies = present(&self.client, "tlsrpt_policies", &keys, &ids).await?;
        let rows: Vec<_> = pending
            .iter()
            .filter(|(r, _)| !with_policies.contains(&r.id))
            .flat_map(|(r, _)| encoder::tls_policies(r))
            .collect();
        self.insert::<encoder::TlsPolicyRow<'static>>("tlsrpt_policies", &rows, summary)
            .await?;
        let with_failures = present(&self.client, "tlsrpt_failures", &keys, &ids).await?;
        let rows: Vec<_> = pending
            .iter()
            .filter(|(r, _)| !with_failures.contains(&r.id))
            .flat_map(|(r, _)| encoder::tls_failures(r))
            .collect();
        self.insert::<encoder::TlsFailureRow<'static>>("tlsrpt_failures", &rows, summary)
            .await?;
        let rows: Vec<_> = pending
            .iter()
            .map(|(r, meta)| encoder::tls_report(r, *meta))
            .collect();
        summary.reports += rows.len() as u64;
        self.insert::<encoder::TlsReportRow<'static>>("tlsrpt_reports", &rows, summary)
            .await
    }

    async fn write_failure(
        &self,
        reports: &[(&FailureReport<'_>, Meta<'_>)],
        summary: &mut WriteSummary,
    ) -> Result<(), StoreError> {
        let keys = failure_keys(reports);
        let ids: Vec<&str> = reports.iter().map(|(r, _)| &*r.id).collect();
        let stored = present(&self.client, "failure_reports", &keys, &ids).await?;
        let rows: Vec<_> = reports
            .iter()
            .filter(|(r, _)| !stored.contains(&r.id))
            .map(|(r, meta)| encoder::failure_report(r, *meta))
            .collect();
        summary.duplicates += (reports.len() - rows.len()) as u64;
        summary.reports += rows.len() as u64;
        self.insert::<encoder::FailureReportRow<'static>>("failure_reports", &rows, summary)
            .await
    }

    /// One INSERT of all `rows` (nothing when empty). On servers that
    /// support it the insert carries a dedup token derived from its rows.
    async fn insert<'x, R>(
        &self,
        table: &str,
        rows: &[R::Value<'x>],
        summary: &mut WriteSummary,
    ) -> Result<(), StoreError>
    where
        R: RowWrite,
        R::Value<'x>: RowKey,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let mut insert = self.client.insert::<R>(table).await?;
        if self.config.cluster.is_some() {
            for (name, value) in super::cluster::INSERT_SETTINGS {
                insert = insert.with_setting(name, value);
            }
        }
        if self.version.supports_insert_dedup_token() {
            // The token, the same dedup for the daily tables the
            // materialized views fill (else a repeated block is counted
            // twice there), and a synchronous insert: one insert is one
            // part, which the resume-by-count lookup relies on (26.2 made
            // async_insert the default).
            insert = insert.with_setting("insert_deduplication_token", token(table, rows));
            for (name, value) in INSERT_SETTINGS {
                insert = insert.with_setting(name, value);
            }
        }
        for row in rows {
            self.lease.check()?;
            insert.write(row).await?;
        }
        self.lease.check()?;
        insert.end().await?;
        summary.rows += rows.len() as u64;
        Ok(())
    }
}

/// What an insert carries beside its dedup token (servers with tokens):
/// the daily tables its materialized views fill deduplicate the block too,
/// and the insert is synchronous.
pub const INSERT_SETTINGS: [(&str, &str); 2] = [
    ("deduplicate_blocks_in_dependent_materialized_views", "1"),
    ("async_insert", "0"),
];

/// A row's identity inside its table, for the insert dedup token.
pub(crate) trait RowKey {
    fn key(&self, hasher: &mut IdentityHasher);
}

fn token<R: RowKey>(table: &str, rows: &[R]) -> String {
    let mut hasher = IdentityHasher::new("insert");
    hasher.field(table.as_bytes());
    for row in rows {
        row.key(&mut hasher);
    }
    hasher.finish()
}

fn group<'b>(batch: &'b [Ingested<'_>]) -> Grouped<'b> {
    let mut grouped = Grouped {
        aggregate: Vec::new(),
        failure: Vec::new(),
        tlsrpt: Vec::new(),
        duplicates: 0,
    };
    let mut seen = HashSet::new();
    for item in batch {
        let part = match &item.report {
            Report::Aggregate(r) => r.first_record(),
            _ => 0,
        };
        if !seen.insert((item.report.id(), part)) {
            grouped.duplicates += 1;
            continue;
        }
        let meta = Meta {
            origin: &item.origin,
            ingested_at: item.received_at,
            reporter: item.reporter.as_ref(),
        };
        match &item.report {
            Report::Aggregate(r) => grouped.aggregate.push((r, meta)),
            Report::Failure(r) => grouped.failure.push((r, meta)),
            Report::Tlsrpt(r) => grouped.tlsrpt.push((r, meta)),
        }
    }
    grouped
}

/// The sorting-key bounds of aggregate reports' lookups: their policy
/// domains and begin dates (both aggregate tables sort by them first).
/// The sorting-key conditions of the TLS reports lookup.
fn tlsrpt_keys(reports: &[(&TlsReport<'_>, Meta<'_>)]) -> [(&'static str, Vec<String>); 2] {
    [
        ("date_begin", times(reports.iter().map(|(r, _)| r.begin))),
        (
            "organization_name",
            strings(reports.iter().map(|(r, _)| &*r.organization_name)),
        ),
    ]
}

/// The sorting-key conditions of the TLS policies and failures lookups.
fn tlsrpt_child_keys<'r, 'x: 'r>(
    pending: impl Iterator<Item = &'r TlsReport<'x>> + Clone,
) -> [(&'static str, Vec<String>); 2] {
    [
        (
            "policy_domain",
            strings(
                pending
                    .clone()
                    .flat_map(|r| r.policies.iter().map(|p| &*p.policy_domain)),
            ),
        ),
        ("date_begin", times(pending.map(|r| r.begin))),
    ]
}

/// The sorting-key conditions of the failure reports lookup.
fn failure_keys(reports: &[(&FailureReport<'_>, Meta<'_>)]) -> [(&'static str, Vec<String>); 2] {
    [
        (
            "reported_domain",
            strings(
                reports
                    .iter()
                    .map(|(r, _)| r.reported_domain.first().map_or("", |d| d.as_ref())),
            ),
        ),
        (
            "arrival_date",
            times(
                reports
                    .iter()
                    .map(|(r, m)| crate::values::failure_arrival(r, m.ingested_at)),
            ),
        ),
    ]
}

/// Every lookup the sink sends before writing `batch` (for a store that
/// holds none of it), for checking them on servers the tests cannot run.
#[doc(hidden)]
pub fn lookup_queries(batch: &[Ingested<'_>]) -> Vec<String> {
    let grouped = group(batch);
    let mut out = Vec::new();
    let agg = &grouped.aggregate;
    if !agg.is_empty() {
        let keys = aggregate_keys(agg);
        let i: Vec<&str> = agg.iter().map(|(r, _)| &*r.id).collect();
        out.push(present_sql("aggregate_reports", &keys, &i));
        out.push(records_present_sql(&keys, &i));
    }
    let tls = &grouped.tlsrpt;
    if !tls.is_empty() {
        let i: Vec<&str> = tls.iter().map(|(r, _)| &*r.id).collect();
        out.push(present_sql("tlsrpt_reports", &tlsrpt_keys(tls), &i));
        let keys = tlsrpt_child_keys(tls.iter().map(|(r, _)| *r));
        out.push(present_sql("tlsrpt_policies", &keys, &i));
        out.push(present_sql("tlsrpt_failures", &keys, &i));
    }
    let failure = &grouped.failure;
    if !failure.is_empty() {
        let i: Vec<&str> = failure.iter().map(|(r, _)| &*r.id).collect();
        out.push(present_sql("failure_reports", &failure_keys(failure), &i));
    }
    out
}

fn aggregate_keys(
    reports: &[(&AggregateReport<'_>, Meta<'_>)],
) -> [(&'static str, Vec<String>); 2] {
    [
        (
            "policy_domain",
            strings(reports.iter().map(|(r, _)| &*r.policy_published.domain)),
        ),
        (
            "date_begin",
            times(reports.iter().map(|(r, _)| r.metadata.begin)),
        ),
    ]
}

/// `RowKey` from a row's report id and its index columns.
macro_rules! row_key {
    ($($row:ident $(: $($index:ident),+)?;)*) => {$(
        impl RowKey for encoder::$row<'_> {
            fn key(&self, h: &mut IdentityHasher) {
                h.field(self.report_id.as_bytes());
                $($(h.int(i64::from(self.$index));)+)?
            }
        }
    )*};
}

row_key! {
    AggregateReportRow;
    AggregateRecordRow: record_index;
    FailureReportRow;
    TlsReportRow;
    TlsPolicyRow: policy_index;
    TlsFailureRow: policy_index, detail_index;
}
