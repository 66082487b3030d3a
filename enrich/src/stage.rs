//! Enrichment as a stage of the flow: reports in, the same reports out
//! enriched, in the order they came (the parts of a report stay in order),
//! with at most [`IN_FLIGHT`] being enriched at once, so their DNS waits
//! overlap each other (and whatever produces the next ones) while memory
//! and the resolver's load stay bounded. `run` puts it between its reader
//! and the store, the sink over each batch it consumed, and ingest over
//! the reports of each message it receives; a report that already carries
//! its enrichment (from ingest) passes through untouched.
//!
//! How many are in flight is the caller's to say where reports are large:
//! ingest enriches the reports of one message one at a time
//! ([`Enricher::stage_within`] with 1), because a report in parts arrives
//! a part (up to 100,000 records) at a time and holding several would
//! undo the bound on memory that parts exist for; the lookups of one report
//! still overlap (each distinct address concurrently), and so do the
//! messages of different connections.

use dmarcflow_schemas::{Ingested, Report};
use futures_util::{Stream, StreamExt};

use crate::Enricher;

/// Reports enriched at once by [`Enricher::stage`].
pub const IN_FLIGHT: usize = 64;

/// What flows through the stage: a report, or a find that may be
/// something else (a rejection), which passes through as it is.
pub trait Enrichable {
    fn report_mut(&mut self) -> Option<&mut Report<'static>>;
}

impl Enrichable for Ingested<'static> {
    fn report_mut(&mut self) -> Option<&mut Report<'static>> {
        Some(&mut self.report)
    }
}

impl Enricher {
    /// `items`, each report enriched where it lacks enrichment, in order,
    /// [`IN_FLIGHT`] at once.
    pub fn stage<'e, T, S>(&'e self, items: S) -> impl Stream<Item = T> + 'e
    where
        T: Enrichable + 'e,
        S: Stream<Item = T> + 'e,
    {
        self.stage_within(items, IN_FLIGHT)
    }

    /// The same, at most `in_flight` (at least 1) at once.
    pub fn stage_within<'e, T, S>(
        &'e self,
        items: S,
        in_flight: usize,
    ) -> impl Stream<Item = T> + 'e
    where
        T: Enrichable + 'e,
        S: Stream<Item = T> + 'e,
    {
        items
            .map(move |mut item| async move {
                if let Some(report) = item.report_mut() {
                    if Enricher::missing(report) {
                        self.report(report).await;
                    }
                }
                item
            })
            .buffered(in_flight.max(1))
    }

    /// A batch enriched where it lacks enrichment, through the stage.
    pub async fn batch(&self, batch: Vec<Ingested<'static>>) -> Vec<Ingested<'static>> {
        self.stage(futures_util::stream::iter(batch))
            .collect()
            .await
    }
}
