//! `dmarcflow sink`: consumes the report topics in a consumer group and
//! writes through the configured store, committing offsets only after the
//! store confirmed the batch. A crash between the two replays the batch,
//! which the store's dedup turns into a no-op: at-least-once delivery,
//! exactly-once storage.
//!
//! Group changes: a revocation drops the batch in hand unwritten (its
//! partitions' next owners replay it); a write runs under the consumer's
//! lease, renewed with the group coordinator while it lasts, so a sink that
//! stalled (past its session timeout or `max.poll.interval.ms`) and lost
//! its partitions stops before writing what their new owner writes. See
//! `dmarcflow_bus::Lease`.

use std::time::Duration;

use dmarcflow_bus::{BusError, Checkpoint, Consumed, KafkaConfig, KafkaConsumer};
use dmarcflow_schemas::Ingested;

use dmarcflow_store::{BatchConfig, Batcher, Store, StoreError, WriteSummary};

/// How long an idle-bounded run waits for a partition assignment.
const ASSIGNMENT_WAIT: Duration = Duration::from_secs(120);

/// How often a write in progress renews its lease.
const RENEW_EVERY: Duration = Duration::from_millis(1000);

/// What a sink run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SinkSummary {
    pub messages: u64,
    pub dead_letters: u64,
    pub stored: WriteSummary,
    /// Batches dropped unwritten or rewound (rebalances, lost leases).
    pub replayed: u64,
}

/// When `run` returns.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// Never (a service; stop it with a signal).
    Forever,
    /// After this long without a message, everything written and committed
    /// (backfills, tests).
    Idle(Duration),
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct SinkService {
    consumer: KafkaConsumer,
    /// `[enrich]`: reports that arrive without their sources' enrichment
    /// get it before they are stored.
    enricher: Option<std::sync::Arc<dmarcflow_enrich::Enricher>>,
}

/// A batch write in progress: the store comes back with the outcome.
type Writing<'s> = std::pin::Pin<Box<dyn std::future::Future<Output = Written<'s>> + 's>>;

/// A finished batch write: the store, what the write did, the batch's offsets.
type Written<'s> = (&'s mut Store, Result<WriteSummary, StoreError>, Checkpoint);

impl SinkService {
    pub fn new(config: &KafkaConfig) -> Result<Self, SinkError> {
        Ok(Self {
            consumer: KafkaConsumer::new(config)?,
            enricher: None,
        })
    }

    pub fn with_enricher(
        mut self,
        enricher: Option<std::sync::Arc<dmarcflow_enrich::Enricher>>,
    ) -> Self {
        self.enricher = enricher;
        self
    }

    /// Consumes, batches, stores and commits until `until`, or until `stop`
    /// resolves (a signal): then the batch in hand is written and committed
    /// before returning, so a graceful stop replays nothing. One batch is
    /// written while the next is consumed.
    pub async fn run(
        &mut self,
        store: &mut Store,
        batching: BatchConfig,
        until: Until,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<SinkSummary, SinkError> {
        let mut stop = std::pin::pin!(stop);
        let started = std::time::Instant::now();
        let mut summary = SinkSummary::default();
        let mut batcher = Batcher::new(batching);
        // The store, while no write has it.
        let mut idle_store = Some(store);
        let mut writing: Option<Writing<'_>> = None;
        loop {
            let wait = match (batcher.due_in(), until) {
                (Some(due), _) => due,
                (None, Until::Idle(idle)) => idle,
                (None, Until::Forever) => Duration::from_secs(3600),
            };
            let next = tokio::select! {
                biased;
                () = &mut stop => {
                    if let Some(write) = writing.take() {
                        idle_store = Some(self.finish(write.await, &mut batcher, &mut summary).await?);
                    }
                    if let Some(store) = idle_store.take() {
                        if !batcher.is_empty() {
                            let write = self.write(store, batcher.take());
                            self.finish(write.await, &mut batcher, &mut summary).await?;
                        }
                    }
                    let rest = self.consumer.checkpoint();
                    self.consumer.commit(rest).await?;
                    tracing::info!("sink stopped: batch written, offsets committed");
                    return Ok(summary);
                }
                written = async {
                    match writing.as_mut() {
                        Some(write) => write.as_mut().await,
                        None => std::future::pending().await,
                    }
                }, if writing.is_some() => {
                    writing = None;
                    idle_store = Some(self.finish(written, &mut batcher, &mut summary).await?);
                    continue;
                }
                next = self.consumer.next(wait) => next?,
            };
            let full = match next {
                Consumed::Report(item) => {
                    summary.messages += 1;
                    batcher.push(item)
                }
                Consumed::DeadLettered => {
                    summary.messages += 1;
                    summary.dead_letters += 1;
                    None
                }
                Consumed::Revoked => {
                    if !batcher.is_empty() {
                        summary.replayed += 1;
                        let dropped = batcher.take().len();
                        tracing::info!(
                            reports = dropped,
                            "rebalance: the batch in hand is left to the partitions' next owners"
                        );
                    }
                    None
                }
                Consumed::Idle if batcher.is_empty() && writing.is_none() => {
                    // Idle counts only once partitions are assigned: after a
                    // crash the group waits for the dead member's session
                    // to expire before giving its partitions to anyone.
                    let waited_too_long = started.elapsed() > ASSIGNMENT_WAIT;
                    if !self.consumer.holds_uncommitted()
                        && matches!(until, Until::Idle(_))
                        && (self.consumer.assigned() || waited_too_long)
                    {
                        return Ok(summary);
                    }
                    // Dead letters alone still move the offsets on.
                    let rest = self.consumer.checkpoint();
                    self.consumer.commit(rest).await?;
                    None
                }
                Consumed::Idle if batcher.is_empty() => None,
                Consumed::Idle => Some(batcher.take()),
            };
            let Some(batch) = full else {
                continue;
            };
            // One write at a time: the previous one finishes first.
            if let Some(write) = writing.take() {
                let replayed = summary.replayed;
                idle_store = Some(self.finish(write.await, &mut batcher, &mut summary).await?);
                if summary.replayed > replayed {
                    // That write lost its lease: the rewind brings this
                    // batch again too.
                    continue;
                }
            }
            let Some(store) = idle_store.take() else {
                continue;
            };
            writing = Some(Box::pin(self.write(store, batch)));
        }
    }

    /// Writes a batch (everything handed over so far) under the consumer's
    /// lease, renewed while the write lasts; once the lease is lost the
    /// write is dropped where it stands (a store that hung keeps it waiting
    /// for a reply, not checking the lease between rows).
    fn write<'s>(
        &mut self,
        store: &'s mut Store,
        mut batch: Vec<Ingested<'static>>,
    ) -> impl std::future::Future<Output = Written<'s>> + 's {
        let checkpoint = self.consumer.checkpoint();
        let confirmer = self.consumer.confirmer();
        let enricher = self.enricher.clone();
        async move {
            let started = std::time::Instant::now();
            if let Some(enricher) = &enricher {
                batch = enricher.batch(batch).await;
            }
            let written = if confirmer.confirm(&checkpoint).await {
                let lease = confirmer.lease().clone();
                let write = store.write_leased(&batch, &lease);
                let renew = async {
                    loop {
                        tokio::time::sleep(RENEW_EVERY).await;
                        confirmer.confirm(&checkpoint).await;
                        if let Err(lost) = lease.check() {
                            return Err(StoreError::LeaseLost(lost));
                        }
                    }
                };
                tokio::select! {
                    written = write => written,
                    lost = renew => lost,
                }
            } else {
                Err(StoreError::LeaseLost(dmarcflow_bus::LeaseLost))
            };
            if let Ok(w) = &written {
                tracing::info!(
                    reports = w.reports,
                    duplicates = w.duplicates,
                    rows = w.rows,
                    ms = started.elapsed().as_millis() as u64,
                    "batch stored"
                );
            }
            (store, written, checkpoint)
        }
    }

    /// After a write: commits its batch, or rewinds it (and drops the batch
    /// being gathered, which the rewind brings again) when it lost the lease.
    async fn finish<'s>(
        &mut self,
        (store, written, checkpoint): Written<'s>,
        batcher: &mut Batcher,
        summary: &mut SinkSummary,
    ) -> Result<&'s mut Store, SinkError> {
        match written {
            Ok(written) => {
                summary.stored += written;
                self.consumer.commit(checkpoint).await?;
                Ok(store)
            }
            Err(StoreError::LeaseLost(_)) => {
                tracing::warn!("the lease ran out before the batch was written: rewound");
                summary.replayed += 1;
                batcher.take();
                self.consumer.replay(checkpoint);
                Ok(store)
            }
            Err(e) => Err(e.into()),
        }
    }
}
