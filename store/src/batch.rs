//! Batching: reports gather until the batch holds enough rows or bytes, or
//! has waited long enough; then the sink writes it as one set of inserts.
//! A report whose sender waits for its acknowledgement (an SMTP 250, an
//! HTTPS 200) makes the batch a group commit: it is written after a short
//! linger, with whatever else arrived meanwhile, instead of at its age
//! limit. Under load the reports queued behind a write all join the next
//! batch, so batches stay large when the stream is busy.

use std::time::{Duration, Instant};

use dmarcflow_schemas::{Ingested, Report};

/// When a batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Flush at this many rows (records, policies, failure details, reports).
    pub max_rows: usize,
    /// Flush at about this many bytes of row data.
    pub max_bytes: usize,
    /// Flush a non-empty batch this long after its first report.
    pub max_age: Duration,
    /// Flush a batch this long after the first report in it that someone
    /// waits for.
    pub linger: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_rows: 200_000,
            max_bytes: 64 << 20,
            max_age: Duration::from_secs(1),
            linger: Duration::from_millis(5),
        }
    }
}

/// Gathers reports into batches.
#[derive(Debug)]
pub struct Batcher {
    config: BatchConfig,
    items: Vec<Ingested<'static>>,
    rows: usize,
    bytes: usize,
    started: Option<Instant>,
    /// When the first report someone waits for joined.
    awaited: Option<Instant>,
}

impl Batcher {
    pub fn new(config: BatchConfig) -> Self {
        Self {
            config,
            items: Vec::new(),
            rows: 0,
            bytes: 0,
            started: None,
            awaited: None,
        }
    }

    /// Adds a report; returns a full batch when this one filled it.
    pub fn push(&mut self, item: Ingested<'static>) -> Option<Vec<Ingested<'static>>> {
        self.push_item(item, false)
    }

    /// Adds a report whose sender waits for it to be written: the batch is
    /// then due within the linger.
    pub fn push_awaited(&mut self, item: Ingested<'static>) -> Option<Vec<Ingested<'static>>> {
        self.push_item(item, true)
    }

    fn push_item(
        &mut self,
        item: Ingested<'static>,
        awaited: bool,
    ) -> Option<Vec<Ingested<'static>>> {
        if awaited {
            self.awaited.get_or_insert_with(Instant::now);
        }
        let (rows, bytes) = size(&item.report);
        self.rows += rows;
        self.bytes += bytes + item.origin.len();
        self.started.get_or_insert_with(Instant::now);
        self.items.push(item);
        (self.rows >= self.config.max_rows || self.bytes >= self.config.max_bytes)
            .then(|| self.take())
    }

    /// The time left before the current batch is due (None when empty).
    pub fn due_in(&self) -> Option<Duration> {
        let aged = self
            .started
            .map(|t| self.config.max_age.saturating_sub(t.elapsed()));
        let lingered = self
            .awaited
            .map(|t| self.config.linger.saturating_sub(t.elapsed()));
        match (aged, lingered) {
            (Some(a), Some(l)) => Some(a.min(l)),
            (a, l) => a.or(l),
        }
    }

    /// Takes whatever is gathered.
    pub fn take(&mut self) -> Vec<Ingested<'static>> {
        self.rows = 0;
        self.bytes = 0;
        self.started = None;
        self.awaited = None;
        std::mem::take(&mut self.items)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Rows a report becomes and roughly how many bytes they take.
pub fn size(report: &Report<'_>) -> (usize, usize) {
    match report {
        Report::Aggregate(r) => {
            let per_record: usize = r
                .records
                .iter()
                .map(|rec| {
                    96 + rec.header_from.len()
                        + rec
                            .dkim_results
                            .iter()
                            .map(|d| 8 + d.domain.len())
                            .sum::<usize>()
                        + rec
                            .spf_results
                            .iter()
                            .map(|s| 8 + s.domain.len())
                            .sum::<usize>()
                })
                .sum();
            (1 + r.records.len(), 256 + per_record)
        }
        Report::Failure(r) => (1, 512 + r.sample.as_ref().map_or(0, |s| s.len())),
        Report::Tlsrpt(r) => {
            let details: usize = r.policies.iter().map(|p| p.failure_details.len()).sum();
            (
                1 + r.policies.len() + details,
                256 * (1 + r.policies.len() + details),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmarcflow_schemas::aggregate::{AggregateReport, Record};

    fn report(records: usize) -> Ingested<'static> {
        let mut r = AggregateReport::empty();
        r.records = vec![Record::default(); records];
        Ingested {
            report: Report::Aggregate(r),
            origin: "test".into(),
            received_at: 0,
            reporter: None,
        }
    }

    #[test]
    fn flushes_on_rows() {
        let mut b = Batcher::new(BatchConfig {
            max_rows: 10,
            ..BatchConfig::default()
        });
        assert!(b.push(report(4)).is_none());
        let batch = b.push(report(5));
        assert_eq!(batch.map(|v| v.len()), Some(2));
        assert!(b.is_empty());
        assert!(b.due_in().is_none());
        assert!(b.push(report(0)).is_none());
        assert!(b.due_in().is_some());
    }

    #[test]
    fn an_awaited_report_makes_the_batch_due_within_the_linger() {
        let mut b = Batcher::new(BatchConfig {
            max_age: Duration::from_secs(60),
            linger: Duration::from_millis(3),
            ..BatchConfig::default()
        });
        assert!(b.push(report(1)).is_none());
        assert!(b.due_in() > Some(Duration::from_secs(59)));
        assert!(b.push_awaited(report(1)).is_none());
        assert!(b.due_in() <= Some(Duration::from_millis(3)));
        assert_eq!(b.take().len(), 2);
        assert!(b.push(report(1)).is_none());
        assert!(
            b.due_in() > Some(Duration::from_secs(59)),
            "the linger ends with its batch"
        );
    }
}
