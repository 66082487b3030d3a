//! Enrichment as a stage of the flow: reports in, the same reports out
//! enriched, in the order they came (the parts of a report stay in order),
//! with at most [`IN_FLIGHT`] being enriched at once, so their DNS waits
//! overlap each other (and whatever produces the next ones) while memory
//! and the resolver's load stay bounded. `run` puts it between its reader
//! and the store, the sink over each batch it consumed; a report that
//! already carries its enrichment (from ingest) passes through untouched.

use dmarcflow_schemas::Ingested;
use futures_util::{Stream, StreamExt};

use crate::Enricher;

/// Reports enriched at once.
pub const IN_FLIGHT: usize = 64;

impl Enricher {
    /// `reports`, each enriched where it lacks enrichment, in order.
    pub fn stage<'e, S>(&'e self, reports: S) -> impl Stream<Item = Ingested<'static>> + 'e
    where
        S: Stream<Item = Ingested<'static>> + 'e,
    {
        reports
            .map(move |mut item| async move {
                if Enricher::missing(&item.report) {
                    self.report(&mut item.report).await;
                }
                item
            })
            .buffered(IN_FLIGHT)
    }

    /// A batch enriched where it lacks enrichment, through the stage.
    pub async fn batch(&self, batch: Vec<Ingested<'static>>) -> Vec<Ingested<'static>> {
        self.stage(futures_util::stream::iter(batch))
            .collect()
            .await
    }
}
