//! `[enrich]` for the commands that read files on a thread of their own
//! (`parse`, `run`): the enricher and a runtime its lookups run on, called
//! report by report, or as a stage on a thread of its own (`Stage`, around
//! `dmarcflow_enrich::stage`) that enriches many reports at once while the
//! reading thread goes on.

use anyhow::{anyhow, Context, Result};
use dmarcflow_enrich::{EnrichConfig, Enricher};
use dmarcflow_schemas::aggregate::Record;
use dmarcflow_schemas::Ingested;
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

/// Enrichment on a thread of its own: reports sent in come out enriched,
/// in the order they were sent (the parts of a report stay in order), to
/// the in-process bus the stage was made with.
pub struct Stage {
    sender: tokio::sync::mpsc::Sender<Ingested<'static>>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl Enrichment {
    pub fn stage(self, publisher: dmarcflow_bus::Publisher) -> Stage {
        let (sender, mut receiver) =
            tokio::sync::mpsc::channel::<Ingested<'static>>(dmarcflow_enrich::stage::IN_FLIGHT);
        let thread = std::thread::spawn(move || {
            let Enrichment { runtime, enricher } = self;
            runtime.block_on(async {
                use futures_util::StreamExt;
                let incoming = futures_util::stream::poll_fn(|cx| receiver.poll_recv(cx));
                let mut enriched = std::pin::pin!(enricher.stage(incoming));
                while let Some(item) = enriched.next().await {
                    publisher.publish_async(item).await?;
                }
                Ok(())
            })
        });
        Stage { sender, thread }
    }
}

impl Stage {
    /// Hands a report over (waits while `IN_FLIGHT` are under way).
    pub fn send(&self, item: Ingested<'static>) -> Result<()> {
        self.sender
            .blocking_send(item)
            .map_err(|_| anyhow!("the enrichment stage stopped"))
    }

    /// Waits until everything sent is delivered.
    pub fn finish(self) -> Result<()> {
        drop(self.sender);
        self.thread
            .join()
            .map_err(|_| anyhow!("the enrichment thread panicked"))?
    }
}
