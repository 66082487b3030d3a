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

use dmarcflow_bus::{BusError, Consumed, KafkaConfig, KafkaConsumer};
use dmarcflow_schemas::Ingested;

use crate::{BatchConfig, Batcher, Store, StoreError, WriteSummary};

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
}

impl SinkService {
    pub fn new(config: &KafkaConfig) -> Result<Self, SinkError> {
        Ok(Self {
            consumer: KafkaConsumer::new(config)?,
        })
    }

    /// Consumes, batches, stores and commits until `until`, or until `stop`
    /// resolves (a signal): then the batch in hand is written and committed
    /// before returning, so a graceful stop replays nothing.
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
        loop {
            let wait = match (batcher.due_in(), until) {
                (Some(due), _) => due,
                (None, Until::Idle(idle)) => idle,
                (None, Until::Forever) => Duration::from_secs(3600),
            };
            let next = tokio::select! {
                next = self.consumer.next(wait) => next?,
                () = &mut stop => {
                    if !batcher.is_empty() {
                        let batch = batcher.take();
                        self.store(store, &batch, &mut summary).await?;
                    }
                    self.consumer.commit().await;
                    tracing::info!("sink stopped: batch written, offsets committed");
                    return Ok(summary);
                }
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
                Consumed::Idle if batcher.is_empty() => {
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
                    self.consumer.commit().await;
                    None
                }
                Consumed::Idle => Some(batcher.take()),
            };
            if let Some(batch) = full {
                self.store(store, &batch, &mut summary).await?;
            }
        }
    }

    /// Writes a batch under the lease and commits it; a write that lost the
    /// lease is rewound instead (nothing committed).
    async fn store(
        &mut self,
        store: &mut Store,
        batch: &[Ingested<'static>],
        summary: &mut SinkSummary,
    ) -> Result<(), SinkError> {
        let started = std::time::Instant::now();
        let consumer = &self.consumer;
        let written = if consumer.confirm().await {
            let lease = consumer.lease().clone();
            let write = store.write_leased(batch, &lease);
            // Renewed while the write lasts; once it is lost the write is
            // dropped where it stands (a store that hung keeps it waiting
            // for a reply, not checking the lease between rows).
            let renew = async {
                loop {
                    tokio::time::sleep(RENEW_EVERY).await;
                    consumer.confirm().await;
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
        match written {
            Ok(written) => {
                tracing::info!(
                    reports = written.reports,
                    duplicates = written.duplicates,
                    rows = written.rows,
                    ms = started.elapsed().as_millis() as u64,
                    "batch stored"
                );
                summary.stored += written;
                self.consumer.commit().await;
                Ok(())
            }
            Err(StoreError::LeaseLost(_)) => {
                tracing::warn!(
                    reports = batch.len(),
                    "the lease ran out before the batch was written: rewound"
                );
                summary.replayed += 1;
                self.consumer.replay();
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}
