//! `[enrich]` for the commands that read files on a thread of their own
//! (`parse`, `run`): the enricher and a runtime its lookups run on.

use anyhow::{Context, Result};
use dmarcflow_enrich::{EnrichConfig, Enricher};
use dmarcflow_schemas::aggregate::Record;
use dmarcflow_schemas::Report;

pub struct Enrichment {
    runtime: tokio::runtime::Runtime,
    enricher: Enricher,
}

impl Enrichment {
    pub fn open(config: &EnrichConfig) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let enricher = {
            let _inside = runtime.enter();
            Enricher::open(config).context("[enrich]")?
        };
        Ok(Self { runtime, enricher })
    }

    /// Adds `source` to every record (or the failure report).
    pub fn report(&self, report: &mut Report<'_>) {
        self.runtime.block_on(self.enricher.report(report));
    }

    /// One record of a report read record by record.
    pub fn record(&self, record: &mut Record<'_>) {
        let source = self
            .runtime
            .block_on(self.enricher.source(&record.source_ip));
        record.source = Some(Box::new(source));
    }
}
