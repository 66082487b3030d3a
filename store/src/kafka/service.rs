//! `dmarcflow sink`: consumes the report topics in a consumer group and
//! writes through the configured store, committing offsets only after the
//! store confirmed the batch. A crash between the two replays the batch,
//! which the store's dedup turns into a no-op: at-least-once delivery,
//! exactly-once storage. A message that is not a report goes to the
//! dead-letter topic (with the reason) before its offset is committed.

use std::collections::HashMap;
use std::time::Duration;

use dmarcflow_schemas::message::{decode, header, Topics};
use dmarcflow_schemas::Ingested;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use super::lag::{LagContext, STATS_INTERVAL_MS};
use super::KafkaSinkConfig;
use crate::{BatchConfig, Batcher, Store, StoreError, WriteSummary};

/// How long an idle-bounded run waits for a partition assignment.
const ASSIGNMENT_WAIT: Duration = Duration::from_secs(120);

/// What a sink run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SinkSummary {
    pub messages: u64,
    pub dead_letters: u64,
    pub stored: WriteSummary,
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
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct SinkService {
    consumer: StreamConsumer<LagContext>,
    dead_letters: FutureProducer,
    topics: Topics,
}

impl SinkService {
    pub fn new(config: &KafkaSinkConfig) -> Result<Self, SinkError> {
        let mut client = rdkafka::ClientConfig::new();
        client.set("bootstrap.servers", &config.brokers);
        for (k, v) in &config.extra {
            client.set(k, v);
        }
        let mut consumer_config = client.clone();
        if let Some(id) = &config.instance_id {
            consumer_config.set("group.instance.id", id);
        }
        let consumer: StreamConsumer<LagContext> = consumer_config
            .set("group.id", &config.group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            // A sink that dies hands its partitions on after 10 s (the
            // librdkafka default, 45 s, stalls a restarted sink that long).
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "2000")
            .set("statistics.interval.ms", STATS_INTERVAL_MS)
            .create_with_context(LagContext)?;
        let topics = config.topics();
        consumer.subscribe(&topics.reports())?;
        let dead_letters: FutureProducer = client
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .create()?;
        Ok(Self {
            consumer,
            dead_letters,
            topics,
        })
    }

    /// Consumes, batches, stores and commits until `until`, or until `stop`
    /// resolves (a signal): then the batch in hand is written and committed
    /// before returning, so a graceful stop replays nothing.
    pub async fn run(
        &self,
        store: &mut Store,
        batching: BatchConfig,
        until: Until,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<SinkSummary, SinkError> {
        let mut stop = std::pin::pin!(stop);
        let started = std::time::Instant::now();
        let mut summary = SinkSummary::default();
        let mut batcher = Batcher::new(batching);
        let mut offsets: HashMap<(String, i32), i64> = HashMap::new();
        loop {
            let wait = match (batcher.due_in(), until) {
                (Some(due), _) => due,
                (None, Until::Idle(idle)) => idle,
                (None, Until::Forever) => Duration::from_secs(3600),
            };
            let next = tokio::select! {
                next = tokio::time::timeout(wait, self.consumer.recv()) => next,
                () = &mut stop => {
                    if !batcher.is_empty() {
                        summary.stored += store.write(&batcher.take()).await?;
                    }
                    self.commit(&mut offsets)?;
                    tracing::info!("sink stopped: batch written, offsets committed");
                    return Ok(summary);
                }
            };
            let full = match next {
                Ok(Err(rdkafka::error::KafkaError::MessageConsumption(
                    rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition,
                ))) => {
                    // A topic not created yet (or deleted): librdkafka
                    // picks it up once it exists; nothing was consumed.
                    tracing::warn!("a subscribed topic does not exist (yet)");
                    None
                }
                Ok(message) => {
                    let message = message?;
                    summary.messages += 1;
                    metrics::counter!("dmarcflow_sink_messages_total").increment(1);
                    offsets.insert(
                        (message.topic().to_owned(), message.partition()),
                        message.offset(),
                    );
                    match read(&message) {
                        Ok(item) => batcher.push(item),
                        Err(reason) => {
                            self.dead_letter(&message, &reason).await?;
                            summary.dead_letters += 1;
                            metrics::counter!("dmarcflow_sink_dead_letters_total").increment(1);
                            None
                        }
                    }
                }
                Err(_elapsed) if batcher.is_empty() => {
                    // Idle counts only once partitions are assigned: after a
                    // crash the group waits for the dead member's session
                    // to expire before giving its partitions to anyone.
                    let assigned = self.consumer.assignment().is_ok_and(|a| a.count() > 0);
                    let waited_too_long = started.elapsed() > ASSIGNMENT_WAIT;
                    if offsets.is_empty()
                        && matches!(until, Until::Idle(_))
                        && (assigned || waited_too_long)
                    {
                        return Ok(summary);
                    }
                    // Dead letters alone still move the offsets on.
                    self.commit(&mut offsets)?;
                    None
                }
                Err(_elapsed) => Some(batcher.take()),
            };
            if let Some(batch) = full {
                let started = std::time::Instant::now();
                let written = store.write(&batch).await?;
                tracing::info!(
                    reports = written.reports,
                    duplicates = written.duplicates,
                    rows = written.rows,
                    ms = started.elapsed().as_millis() as u64,
                    "batch stored"
                );
                summary.stored += written;
                self.commit(&mut offsets)?;
            }
        }
    }

    /// Commits the next offset of every partition read so far.
    fn commit(&self, offsets: &mut HashMap<(String, i32), i64>) -> Result<(), SinkError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for ((topic, partition), offset) in offsets.drain() {
            list.add_partition_offset(&topic, partition, Offset::Offset(offset + 1))?;
        }
        self.consumer.commit(&list, CommitMode::Sync)?;
        Ok(())
    }

    async fn dead_letter(
        &self,
        message: &BorrowedMessage<'_>,
        reason: &str,
    ) -> Result<(), SinkError> {
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
        self.dead_letters
            .send(record, Duration::from_secs(60))
            .await
            .map_err(|(e, _)| SinkError::Kafka(e))?;
        Ok(())
    }
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
    decode(
        body,
        header_value(header::ORIGIN),
        header_value(header::RECEIVED_AT),
    )
    .map(Ingested::into_owned)
    .map_err(|e| e.to_string())
}
