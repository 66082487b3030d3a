//! A publisher that counts what goes through it, per source: reports and
//! records published by kind (aggregate records, TLS-RPT policies, one per
//! failure report), dead letters by reason, and bus failures.
//! The counters are `metrics` facade calls; the binary exports them to
//! Prometheus (`dmarcflow_*`).

use dmarcflow_schemas::{Ingested, Report};

use dmarcflow_schemas::Rejected;

use crate::{BusError, Publish};

pub struct Metered<P> {
    inner: P,
    source: &'static str,
}

impl<P: Publish> Metered<P> {
    /// `source` labels every counter: `smtp`, `http`, `imap`, `files`.
    pub fn new(inner: P, source: &'static str) -> Self {
        Self { inner, source }
    }

    fn sent(
        &self,
        (kind, records): (&'static str, u64),
        sent: Result<(), BusError>,
    ) -> Result<(), BusError> {
        match sent {
            Ok(()) => {
                metrics::counter!("dmarcflow_reports_published_total", "source" => self.source, "kind" => kind)
                    .increment(1);
                metrics::counter!("dmarcflow_records_published_total", "source" => self.source, "kind" => kind)
                    .increment(records);
                Ok(())
            }
            Err(e) => {
                self.failed(&e);
                Err(e)
            }
        }
    }

    fn failed(&self, e: &BusError) {
        metrics::counter!("dmarcflow_bus_errors_total", "source" => self.source).increment(1);
        tracing::debug!(error = %e, source = self.source, "bus failure");
    }
}

/// A report's kind and how many records it counts as.
fn counts(item: &Ingested<'_>) -> (&'static str, u64) {
    let records = match &item.report {
        Report::Aggregate(r) => r.records.len() as u64,
        Report::Tlsrpt(r) => r.policies.len() as u64,
        Report::Failure(_) => 1,
    };
    (item.report.kind().as_str(), records)
}

impl<P: Publish> Publish for Metered<P> {
    async fn publish(&self, item: &Ingested<'_>) -> Result<(), BusError> {
        let counts = counts(item);
        let sent = self.inner.publish(item).await;
        self.sent(counts, sent)
    }

    async fn publish_owned(&self, item: Ingested<'static>) -> Result<(), BusError> {
        let counts = counts(&item);
        let sent = self.inner.publish_owned(item).await;
        self.sent(counts, sent)
    }

    async fn dead_letter(
        &self,
        raw: &[u8],
        rejected: &Rejected,
        received_at: i64,
    ) -> Result<(), BusError> {
        match self.inner.dead_letter(raw, rejected, received_at).await {
            Ok(()) => {
                metrics::counter!("dmarcflow_dead_letters_total", "source" => self.source, "reason" => rejected.reason)
                    .increment(1);
                Ok(())
            }
            Err(e) => {
                self.failed(&e);
                Err(e)
            }
        }
    }

    fn recover(&self) {
        self.inner.recover();
    }
}
