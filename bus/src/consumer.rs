//! The consuming side of the Kafka bus: a member of the sink's consumer
//! group that hands over reports one at a time and commits offsets only
//! when told that what it handed over is stored.
//!
//! The discipline (the store's dedup turns every replay into a no-op):
//! - `next` returns a report, or `Revoked` when the group took partitions
//!   away: everything handed over and not committed must then be dropped
//!   unwritten, as the partitions' next owners replay it from the committed
//!   offsets. `next` is cancel-safe: a sink may wait on it and on a write
//!   at once.
//! - `checkpoint` closes a batch: the offsets handed over so far, which
//!   `commit` commits once the store holds the batch. A sink may go on
//!   consuming the next batch while one is written.
//! - Writes run under the [`Lease`] (a [`Confirmer`] renews it with the
//!   group coordinator); when a write loses it, `replay` rewinds the
//!   partitions to the batch's first offsets, dropping what came after.
//! - A commit the group refuses (the partitions moved on) is not an error:
//!   the new owner replays the batch.
//! - A message that is not a report goes to the dead-letter topic (with the
//!   reason); the commit that covers its offset waits for the broker to
//!   have it.
//! - Consumption errors (a broker restarting, a poll interval exceeded) are
//!   counted and waited out: librdkafka reconnects and rejoins by itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dmarcflow_schemas::message::{decode, header, Topics};
use dmarcflow_schemas::Ingested;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, Statistics, TopicPartitionList};

use crate::lag::{self, STATS_INTERVAL_MS};
use crate::{BusError, KafkaConfig, Lease};

/// The heartbeat interval: librdkafka's default is a third of its own
/// session timeout default; ours keeps a fifth of the configured one.
fn heartbeat_ms(session_timeout_ms: u32) -> u32 {
    (session_timeout_ms / 5).max(100)
}

/// What `next` found.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // reports are the common case
pub enum Consumed {
    Report(Ingested<'static>),
    /// A message that is not a report, now on its way to the dead-letter
    /// topic.
    DeadLettered,
    /// The group revoked partitions: drop what was handed over unwritten.
    Revoked,
    /// Nothing arrived within the wait (or a consumption error was waited
    /// out).
    Idle,
}

/// Per partition, the uncommitted offsets handed over: first and last.
type Held = HashMap<(String, i32), (i64, i64)>;

/// The offsets of a batch: what `checkpoint` closed, for `commit` once the
/// batch is stored (or `replay` when its write lost the lease).
#[derive(Debug, Default)]
pub struct Checkpoint {
    held: Held,
}

impl Checkpoint {
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

pub struct KafkaConsumer {
    config: KafkaConfig,
    consumer: Arc<StreamConsumer<GroupContext>>,
    dead_letters: FutureProducer,
    /// Dead letters sent and not yet acknowledged by the broker.
    dead_letters_sent: Vec<DeliveryFuture>,
    topics: Topics,
    /// Handed over since the last checkpoint.
    held: Held,
    /// Checkpoints whose commit failed for a passing reason, for the next.
    uncommitted: Held,
    /// A message that came in the poll that revoked: the new assignment's,
    /// handed over after the `Revoked`.
    stashed: Option<Received>,
    /// What writes run under; revoked by rebalances (see `GroupContext`).
    lease: Lease,
    lease_length: Duration,
}

/// A message taken off the consumer: its partition, offset and what it is.
type Received = ((String, i32), i64, Consumed);

/// Renews the lease of a consumer while a write runs beside its `next`.
#[derive(Clone)]
pub struct Confirmer {
    consumer: Arc<StreamConsumer<GroupContext>>,
    lease: Lease,
    lease_length: Duration,
}

/// librdkafka's callbacks: statistics become lag gauges, a revocation
/// revokes the lease and is reported by the next `next`.
struct GroupContext {
    lease: Lease,
    revoked: AtomicBool,
}

impl ClientContext for GroupContext {
    fn stats(&self, statistics: Statistics) {
        lag::record(statistics);
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            self.lease.revoke();
            self.revoked.store(true, Ordering::SeqCst);
            metrics::counter!("dmarcflow_sink_rebalances_total").increment(1);
            tracing::info!(partitions = partitions.count(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            tracing::info!(partitions = partitions.count(), "partitions assigned");
        }
    }
}

impl KafkaConsumer {
    /// Joins the group `config.group` on the report topics.
    pub fn new(config: &KafkaConfig) -> Result<Self, BusError> {
        let lease = Lease::revoked();
        let (consumer, dead_letters, lease_length) = build(config, &lease)?;
        let consumer = Arc::new(consumer);
        Ok(Self {
            config: config.clone(),
            consumer,
            dead_letters,
            dead_letters_sent: Vec::new(),
            topics: config.topics(),
            held: Held::new(),
            uncommitted: Held::new(),
            stashed: None,
            lease,
            lease_length,
        })
    }

    /// A consumer fenced for good (librdkafka's fatal errors: a static
    /// member replaced by its own rejoin after a stall) is replaced by a new
    /// member; what it held goes to the partitions' next owners.
    fn renew_if_fatal(&mut self) -> Result<bool, BusError> {
        let Some((code, reason)) = self.consumer.client().fatal_error() else {
            return Ok(false);
        };
        tracing::warn!(error = %reason, ?code, "kafka consumer failed for good: joining the group afresh");
        self.lease.revoke();
        self.held.clear();
        self.uncommitted.clear();
        self.stashed = None;
        let (consumer, dead_letters, _) = build(&self.config, &self.lease)?;
        self.consumer = Arc::new(consumer);
        self.dead_letters = dead_letters;
        Ok(true)
    }

    /// The next report, waiting at most `wait`. Cancel-safe.
    pub async fn next(&mut self, wait: Duration) -> Result<Consumed, BusError> {
        if self.renew_if_fatal()? {
            return Ok(Consumed::Revoked);
        }
        if let Some(received) = self.stashed.take() {
            return Ok(self.hold(received));
        }
        let consumer = self.consumer.clone();
        let received = match tokio::time::timeout(wait, consumer.recv()).await {
            Err(_elapsed) => None,
            Ok(Err(e)) => {
                // A broker restarting, a topic not created yet, a poll
                // interval exceeded (librdkafka rejoins at the next poll):
                // nothing was consumed.
                metrics::counter!("dmarcflow_sink_consume_errors_total").increment(1);
                tracing::warn!(error = %e, "kafka consumer");
                tokio::time::sleep(wait.min(Duration::from_millis(200))).await;
                None
            }
            // From here on nothing awaits: the message is handed over or
            // dropped with the batch, never lost to a cancellation.
            Ok(Ok(message)) => Some(self.take(&message)?),
        };
        // A revocation is served inside the poll, before the messages of
        // the assignment that follows it: a message that came with one is
        // the new assignment's, and is held after the `Revoked`.
        let revoked = self
            .consumer
            .context()
            .revoked
            .swap(false, Ordering::SeqCst);
        if revoked {
            self.held.clear();
            self.uncommitted.clear();
        }
        if revoked {
            self.stashed = received;
            return Ok(Consumed::Revoked);
        }
        Ok(match received {
            Some(received) => self.hold(received),
            None => Consumed::Idle,
        })
    }

    /// A message as what `next` returns (a dead letter sent without waiting).
    fn take(&mut self, message: &BorrowedMessage<'_>) -> Result<Received, BusError> {
        metrics::counter!("dmarcflow_sink_messages_total").increment(1);
        let at = (message.topic().to_owned(), message.partition());
        let offset = message.offset();
        let consumed = match read(message) {
            Ok(item) => Consumed::Report(item),
            Err(reason) => {
                self.dead_letter(message, &reason)?;
                metrics::counter!("dmarcflow_sink_dead_letters_total").increment(1);
                Consumed::DeadLettered
            }
        };
        Ok((at, offset, consumed))
    }

    /// Hands a message over, holding its offset until a checkpoint.
    fn hold(&mut self, (at, offset, consumed): Received) -> Consumed {
        self.held
            .entry(at)
            .and_modify(|(_, last)| *last = offset)
            .or_insert((offset, offset));
        consumed
    }

    /// Whether the group has assigned this member any partition.
    pub fn assigned(&self) -> bool {
        self.consumer.assignment().is_ok_and(|a| a.count() > 0)
    }

    /// Whether messages were handed over and not committed yet.
    pub fn holds_uncommitted(&self) -> bool {
        !self.held.is_empty() || !self.uncommitted.is_empty()
    }

    /// Closes a batch: the offsets handed over since the last checkpoint.
    pub fn checkpoint(&mut self) -> Checkpoint {
        Checkpoint {
            held: std::mem::take(&mut self.held),
        }
    }

    /// What renews the lease while a batch is written.
    pub fn confirmer(&self) -> Confirmer {
        Confirmer {
            consumer: self.consumer.clone(),
            lease: self.lease.clone(),
            lease_length: self.lease_length,
        }
    }

    /// A write lost the lease: rewinds every partition of the batch to its
    /// first offset and drops what was handed over since, so those messages
    /// come again (or, if the partition moved, go to its next owner from
    /// the committed offset).
    pub fn replay(&mut self, batch: Checkpoint) {
        let mut from = batch.held;
        for (at, (first, _)) in self.held.drain() {
            from.entry(at).or_insert((first, first));
        }
        let mut rewound = true;
        for ((topic, partition), (first, _)) in from {
            rewound &= self.rewind(&topic, partition, first);
        }
        if !rewound {
            // A partition still held that could not be rewound would go on
            // past what was dropped: leave the group and join again, which
            // starts every partition at its committed offset.
            tracing::warn!("rejoining the group to start from the committed offsets");
            self.consumer.unsubscribe();
            if let Err(e) = self.consumer.subscribe(&self.topics.reports()) {
                tracing::error!(error = %e, "subscribing again");
            }
        }
        metrics::counter!("dmarcflow_sink_replays_total").increment(1);
    }

    /// Seeks a partition back; true when done, or when it is not assigned
    /// here (its next owner starts at the committed offset).
    fn rewind(&self, topic: &str, partition: i32, offset: i64) -> bool {
        let assigned = self
            .consumer
            .assignment()
            .is_ok_and(|a| a.find_partition(topic, partition).is_some());
        if !assigned {
            return true;
        }
        match self.consumer.seek(
            topic,
            partition,
            Offset::Offset(offset),
            Duration::from_secs(10),
        ) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, topic, partition, "rewinding a partition");
                false
            }
        }
    }

    /// Commits the next offset of every partition of `batch`: call only
    /// once the store holds it. Waits for the dead letters sent so far
    /// first. A commit the group refuses, or that fails, leaves the batch
    /// stored and its offsets for the next commit or the next owner (which
    /// replays it into dedup).
    pub async fn commit(&mut self, batch: Checkpoint) -> Result<(), BusError> {
        for sent in self.dead_letters_sent.drain(..) {
            match sent.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(BusError::Kafka(e)),
                Err(_canceled) => return Err(BusError::Kafka(KafkaError::Canceled)),
            }
        }
        for (at, (first, last)) in batch.held {
            self.uncommitted
                .entry(at)
                .and_modify(|(_, l)| *l = (*l).max(last))
                .or_insert((first, last));
        }
        let list = match offsets(&self.uncommitted, |(_, last)| last + 1) {
            Ok(Some(list)) => list,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "building the offsets to commit");
                return Ok(());
            }
        };
        let lease = &self.lease;
        let asked = lease.ask();
        match commit_list(&self.consumer, list).await {
            Ok(()) => {
                self.uncommitted.clear();
                lease.grant(asked, self.lease_length);
            }
            Err(e) => {
                metrics::counter!("dmarcflow_sink_commit_failures_total").increment(1);
                if fenced(&e) {
                    // The partitions belong to another member now.
                    lease.revoke();
                    self.uncommitted.clear();
                    tracing::warn!(error = %e, "offsets not committed: the partitions moved on");
                } else {
                    tracing::warn!(error = %e, "offsets not committed; retried with the next batch");
                }
            }
        }
        Ok(())
    }

    /// Sends a message that is not a report to the dead-letter topic; the
    /// next `commit` waits for the broker's acknowledgement.
    fn dead_letter(&mut self, message: &BorrowedMessage<'_>, reason: &str) -> Result<(), BusError> {
        let origin = format!(
            "{}/{}/{}",
            message.topic(),
            message.partition(),
            message.offset()
        );
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: header::ORIGIN,
                value: Some(origin.as_str()),
            })
            .insert(Header {
                key: header::REASON,
                value: Some("undecodable"),
            })
            .insert(Header {
                key: header::ERROR,
                value: Some(reason),
            });
        let record = FutureRecord::to(&self.topics.dead_letter)
            .key(origin.as_str())
            .payload(message.payload().unwrap_or_default())
            .headers(headers);
        let sent = self
            .dead_letters
            .send_result(record)
            .map_err(|(e, _)| BusError::Kafka(e))?;
        self.dead_letters_sent.push(sent);
        Ok(())
    }
}

impl Confirmer {
    /// The lease writes of a batch run under.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Asks the group coordinator whether this member still owns the
    /// partitions of `batch` (a commit of its first offsets, which moves
    /// nothing back) and renews the lease if so. False when it does not, or
    /// could not say.
    pub async fn confirm(&self, batch: &Checkpoint) -> bool {
        let list = match offsets(&batch.held, |(first, _)| *first) {
            Ok(Some(list)) => list,
            Ok(None) => return self.lease.check().is_ok(),
            Err(_) => return false,
        };
        let asked = self.lease.ask();
        match commit_list(&self.consumer, list).await {
            Ok(()) => {
                self.lease.grant(asked, self.lease_length);
                true
            }
            Err(e) => {
                if fenced(&e) {
                    self.lease.revoke();
                }
                tracing::warn!(error = %e, "the group coordinator did not confirm this sink");
                false
            }
        }
    }
}

/// A synchronous commit, off the async threads.
async fn commit_list(
    consumer: &Arc<StreamConsumer<GroupContext>>,
    list: TopicPartitionList,
) -> Result<(), KafkaError> {
    let consumer = consumer.clone();
    tokio::task::spawn_blocking(move || consumer.commit(&list, CommitMode::Sync))
        .await
        .unwrap_or(Err(KafkaError::Canceled))
}

/// The group consumer (its revocations revoke `lease`), the dead-letter
/// producer, and the lease length, for `config`.
fn build(
    config: &KafkaConfig,
    lease: &Lease,
) -> Result<(StreamConsumer<GroupContext>, FutureProducer, Duration), BusError> {
    let session = config
        .property("session.timeout.ms")
        .and_then(|v| v.parse().ok())
        .unwrap_or(config.session_timeout_ms);
    let heartbeat = config
        .property("heartbeat.interval.ms")
        .and_then(|v| v.parse().ok())
        .unwrap_or(heartbeat_ms(session));
    let client = config.client();
    let mut group = client.clone();
    if let Some(id) = &config.instance_id {
        group.set("group.instance.id", id);
    }
    let context = GroupContext {
        lease: lease.clone(),
        revoked: AtomicBool::new(false),
    };
    let consumer: StreamConsumer<GroupContext> = group
        .set("group.id", &config.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // Eager rebalancing: a revocation takes every partition and the
        // next assignment starts from the committed offsets, which is
        // what dropping the batch in hand relies on.
        .set("partition.assignment.strategy", "range,roundrobin")
        // A sink that dies hands its partitions on after the session
        // timeout (10 s unless configured; librdkafka's 45 s would
        // stall a restarted sink that long).
        .set("session.timeout.ms", session.to_string())
        .set("heartbeat.interval.ms", heartbeat.to_string())
        .set("statistics.interval.ms", STATS_INTERVAL_MS)
        .create_with_context(context)?;
    consumer.subscribe(&config.topics().reports())?;
    let dead_letters: FutureProducer = client
        .clone()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()?;
    // The coordinator may give this member's partitions away one session
    // timeout after its last heartbeat, which can be a heartbeat interval
    // before a confirmation: half of what remains, for the insert in
    // flight to be sent whole.
    let lease_length = Duration::from_millis(u64::from(session.saturating_sub(heartbeat) / 2));
    Ok((consumer, dead_letters, lease_length))
}

/// The offsets `pick` chooses from what is held, as a commit list (None
/// when nothing is held).
fn offsets(
    held: &Held,
    pick: impl Fn(&(i64, i64)) -> i64,
) -> Result<Option<TopicPartitionList>, KafkaError> {
    if held.is_empty() {
        return Ok(None);
    }
    let mut list = TopicPartitionList::new();
    for ((topic, partition), range) in held {
        list.add_partition_offset(topic, *partition, Offset::Offset(pick(range)))?;
    }
    Ok(Some(list))
}

/// The group no longer counts this member as the owner of its partitions.
fn fenced(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::UnknownMemberId
                | RDKafkaErrorCode::IllegalGeneration
                | RDKafkaErrorCode::RebalanceInProgress
                | RDKafkaErrorCode::FencedInstanceId
                | RDKafkaErrorCode::State
                | RDKafkaErrorCode::UnknownPartition
        )
    )
}

/// A message as a report, or why it is not one.
fn read(message: &BorrowedMessage<'_>) -> Result<Ingested<'static>, String> {
    let body = message.payload().ok_or("an empty message")?;
    let header_value = |name: &str| {
        message.headers().and_then(|h| {
            h.iter()
                .find(|x| x.key == name)
                .and_then(|x| x.value)
                .and_then(|v| std::str::from_utf8(v).ok())
        })
    };
    let headers = dmarcflow_schemas::message::Headers {
        origin: header_value(header::ORIGIN),
        received_at: header_value(header::RECEIVED_AT),
        reporter_auth: header_value(header::REPORTER_AUTH),
    };
    decode(body, headers)
        .map(Ingested::into_owned)
        .map_err(|e| e.to_string())
}
