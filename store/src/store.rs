//! One store, whichever is configured: ClickHouse when a URL is set, else
//! the embedded SQLite file.

use std::path::PathBuf;

use dmarcflow_schemas::Ingested;
use tokio::sync::{mpsc, oneshot};

use crate::clickhouse::{ClickHouseConfig, ClickHouseSink};
use crate::sqlite::SqliteStore;
use crate::{BatchConfig, Batcher, StoreError, Table, WriteSummary};
use dmarcflow_lease::Lease;

#[derive(Debug, Clone)]
pub enum StoreConfig {
    ClickHouse(ClickHouseConfig),
    Sqlite { path: PathBuf },
}

impl StoreConfig {
    /// A SQLite file not created yet: nothing to read, and opening it would
    /// create it, so a command that only reads skips it. ClickHouse is never
    /// known to be empty before it is asked.
    pub fn not_created(&self) -> bool {
        matches!(self, StoreConfig::Sqlite { path } if !path.exists())
    }
}

pub enum Store {
    ClickHouse(Box<ClickHouseSink>),
    Sqlite(SqliteStore),
}

impl Store {
    /// Opens the configured store; the SQLite file is created and migrated
    /// on first use, ClickHouse needs `dmarcflow migrate` first.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        Ok(match config {
            StoreConfig::ClickHouse(c) => {
                Self::ClickHouse(Box::new(ClickHouseSink::connect(c.clone()).await?))
            }
            StoreConfig::Sqlite { path } => Self::Sqlite(SqliteStore::open(path)?),
        })
    }

    /// Writes one batch (the whole batch is the unit of retry and of
    /// acknowledgement). Counted in `dmarcflow_store_*` metrics.
    pub async fn write(&mut self, batch: &[Ingested<'_>]) -> Result<WriteSummary, StoreError> {
        self.write_leased(batch, &Lease::unbounded()).await
    }

    /// `write` under a sink's lease (`dmarcflow_lease::Lease`): a write that
    /// outlives it stops with `StoreError::LeaseLost`, nothing more sent.
    pub async fn write_leased(
        &mut self,
        batch: &[Ingested<'_>],
        lease: &Lease,
    ) -> Result<WriteSummary, StoreError> {
        let started = std::time::Instant::now();
        let (store, written) = match self {
            Self::ClickHouse(s) => ("clickhouse", s.write_leased(batch, lease).await),
            Self::Sqlite(s) => ("sqlite", s.write_leased(batch, lease)),
        };
        record(store, started, &written);
        written
    }

    pub async fn query(&self, sql: &str) -> Result<Table, StoreError> {
        match self {
            Self::ClickHouse(s) => crate::clickhouse::query(s.client(), sql).await,
            Self::Sqlite(s) => s.query(sql),
        }
    }

    /// One statement that returns nothing (an INSERT of the alerts' state).
    pub async fn execute(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Self::ClickHouse(s) => Ok(s.client().query(sql).execute().await?),
            Self::Sqlite(s) => s.execute(sql),
        }
    }

    /// Stores everything that arrives on `reports`, in batches (full, or
    /// old enough), until the channel closes; the last batch is written
    /// then. Stops at the first write that fails for good.
    pub async fn consume(
        &mut self,
        reports: mpsc::Receiver<Ingested<'static>>,
        batching: BatchConfig,
    ) -> Result<WriteSummary, StoreError> {
        self.consume_with(reports, |item| (item, None), batching)
            .await
    }

    /// `consume` for reports that carry an acknowledgement: each is sent
    /// once the batch holding the report is written (a failed write drops
    /// them, which their publishers see as the bus failing).
    pub async fn consume_acked(
        &mut self,
        reports: mpsc::Receiver<(Ingested<'static>, oneshot::Sender<()>)>,
        batching: BatchConfig,
    ) -> Result<WriteSummary, StoreError> {
        self.consume_with(reports, |(item, ack)| (item, Some(ack)), batching)
            .await
    }

    async fn consume_with<T>(
        &mut self,
        mut reports: mpsc::Receiver<T>,
        split: impl Fn(T) -> (Ingested<'static>, Option<oneshot::Sender<()>>),
        batching: BatchConfig,
    ) -> Result<WriteSummary, StoreError> {
        let mut batcher = Batcher::new(batching);
        let mut acks = Vec::new();
        let mut total = WriteSummary::default();
        loop {
            let next = match batcher.due_in() {
                None => reports.recv().await,
                Some(wait) => match tokio::time::timeout(wait, reports.recv()).await {
                    Ok(next) => next,
                    Err(_elapsed) => {
                        total += self.write_acked(&batcher.take(), &mut acks).await?;
                        continue;
                    }
                },
            };
            match next.map(&split) {
                Some((item, ack)) => {
                    let full = match ack {
                        Some(ack) => {
                            acks.push(ack);
                            batcher.push_awaited(item)
                        }
                        None => batcher.push(item),
                    };
                    if let Some(batch) = full {
                        total += self.write_acked(&batch, &mut acks).await?;
                    }
                }
                None if batcher.is_empty() => return Ok(total),
                None => {
                    total += self.write_acked(&batcher.take(), &mut acks).await?;
                    return Ok(total);
                }
            }
        }
    }

    /// Writes a batch, then acknowledges every report in it.
    async fn write_acked(
        &mut self,
        batch: &[Ingested<'_>],
        acks: &mut Vec<oneshot::Sender<()>>,
    ) -> Result<WriteSummary, StoreError> {
        let written = self.write(batch).await?;
        for ack in acks.drain(..) {
            let _ = ack.send(());
        }
        Ok(written)
    }

    pub fn backend(&self) -> crate::summary::Backend {
        match self {
            Self::ClickHouse(_) => crate::summary::Backend::ClickHouse,
            Self::Sqlite(_) => crate::summary::Backend::Sqlite,
        }
    }
}

/// A write in the `dmarcflow_store_*` metrics.
fn record(
    store: &'static str,
    started: std::time::Instant,
    written: &Result<WriteSummary, StoreError>,
) {
    match written {
        Ok(w) => {
            metrics::histogram!("dmarcflow_store_batch_seconds", "store" => store)
                .record(started.elapsed().as_secs_f64());
            metrics::counter!("dmarcflow_store_reports_total", "store" => store, "outcome" => "stored")
                .increment(w.reports);
            metrics::counter!("dmarcflow_store_reports_total", "store" => store, "outcome" => "duplicate")
                .increment(w.duplicates);
            metrics::counter!("dmarcflow_store_rows_total", "store" => store).increment(w.rows);
        }
        Err(_) => metrics::counter!("dmarcflow_store_errors_total", "store" => store).increment(1),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sqlite::SqliteStore;
    use dmarcflow_testkit::reports::{generated, ingested};

    /// A SQLite store in `dir`, and batching that flushes only by age.
    fn sqlite(dir: &tempfile::TempDir, max_age_ms: u64) -> (Store, PathBuf, BatchConfig) {
        let path = dir.path().join("s.db");
        let store = Store::Sqlite(SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}")));
        let batching = BatchConfig {
            max_rows: 1_000_000,
            max_bytes: usize::MAX,
            max_age: Duration::from_millis(max_age_ms),
            linger: Duration::from_millis(max_age_ms),
        };
        (store, path, batching)
    }

    #[tokio::test]
    async fn consume_flushes_by_age_and_at_the_end() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (mut store, path, batching) = sqlite(&dir, 50);
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(async move { store.consume(rx, batching).await });
        tx.send(ingested(generated(1, 3)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Written by age while the channel is still open.
        let reader = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let count = |r: &SqliteStore| {
            r.query("SELECT count(*) FROM aggregate_reports")
                .map(|t| t.rows[0][0].clone())
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(count(&reader), "1");
        tx.send(ingested(generated(2, 3)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(tx);
        let total = task
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(total.reports, 2);
        assert_eq!(count(&reader), "2");
    }

    #[tokio::test]
    async fn acknowledgements_follow_the_write() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (mut store, path, batching) = sqlite(&dir, 300);
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(async move { store.consume_acked(rx, batching).await });
        let (ack, mut acked) = oneshot::channel();
        tx.send((ingested(generated(1, 3)), ack))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            acked.try_recv().is_err(),
            "not acknowledged before the write"
        );
        tokio::time::timeout(Duration::from_secs(5), &mut acked)
            .await
            .unwrap_or_else(|_| panic!("no acknowledgement"))
            .unwrap_or_else(|e| panic!("{e}"));
        let reader = SqliteStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let stored = reader
            .query("SELECT count(*) FROM aggregate_reports")
            .map(|t| t.rows[0][0].clone())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored, "1", "stored by the time it is acknowledged");
        drop(tx);
        let _ = task.await;
    }

    #[tokio::test]
    async fn an_awaited_report_is_written_after_the_linger_with_what_queued_behind_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (mut store, _path, mut batching) = sqlite(&dir, 60_000);
        batching.linger = Duration::from_millis(5);
        let (tx, rx) = mpsc::channel(64);
        let mut acks = Vec::new();
        // Queued before the consumer starts: one group commit takes them all.
        for i in 0..20 {
            let (ack, acked) = oneshot::channel();
            tx.send((ingested(generated(i, 2)), ack))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            acks.push(acked);
        }
        let task = tokio::spawn(async move { store.consume_acked(rx, batching).await });
        let started = std::time::Instant::now();
        for acked in acks {
            tokio::time::timeout(Duration::from_secs(5), acked)
                .await
                .unwrap_or_else(|_| panic!("no acknowledgement within the linger's reach"))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "acknowledged long before the 60 s age limit"
        );
        drop(tx);
        let total = task
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(total.reports, 20);
    }
}
