//! Publishing to Kafka: idempotent producer, `acks=all`, compression and
//! batching (linger). `publish` returns only once the broker has confirmed
//! every message it produced, so a source may acknowledge its input then.
//! An aggregate report too large for one message is split into parts (see
//! `dmarcflow_schemas::aggregate::Part`), all keyed by the report identity so
//! they stay in order on one partition.

use std::time::Duration;

use dmarcflow_schemas::message::{encode, header, Topics};
use dmarcflow_schemas::{Ingested, Report};
use futures_util::future::try_join_all;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use dmarcflow_schemas::Rejected;

use crate::{ensure_topics, BusError, KafkaConfig};

pub struct KafkaPublisher {
    config: KafkaConfig,
    producer: std::sync::RwLock<FutureProducer>,
    /// Cleared by `renew`: the topics are checked (made) again before the
    /// next message, as a broker rebuilt empty has none.
    topics_known: std::sync::atomic::AtomicBool,
    topics: Topics,
    max_message_bytes: usize,
    archive_raw: bool,
}

/// How long a message may wait in the producer's queue for the broker.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(120);

impl KafkaPublisher {
    pub fn new(config: &KafkaConfig) -> Result<Self, BusError> {
        let producer = std::sync::RwLock::new(producer(config)?);
        Ok(Self {
            config: config.clone(),
            producer,
            topics_known: std::sync::atomic::AtomicBool::new(true),
            topics: config.topics(),
            max_message_bytes: config.max_message_bytes,
            archive_raw: config.archive_raw,
        })
    }

    /// Publishes a report (in parts if it must), returning once every
    /// message is acknowledged by the broker. Topics that vanished (a broker
    /// rebuilt empty) are created again, once.
    pub async fn publish(&self, item: &Ingested<'_>) -> Result<(), BusError> {
        match self.publish_once(item).await {
            Err(BusError::Kafka(e)) if unknown_topic(&e) => {
                ensure_topics(&self.config).await?;
                self.publish_once(item).await
            }
            Err(e) => {
                self.renew_if_fatal();
                Err(e)
            }
            ok => ok,
        }
    }

    async fn publish_once(&self, item: &Ingested<'_>) -> Result<(), BusError> {
        use std::sync::atomic::Ordering;
        if !self.topics_known.load(Ordering::SeqCst) {
            ensure_topics(&self.config).await?;
            self.topics_known.store(true, Ordering::SeqCst);
        }
        let topic = self.topics.for_kind(item.report.kind());
        let key = item.report.id();
        let received_at = item.received_at.to_string();
        let bodies = self.bodies(&item.report)?;
        let producer = self.current();
        let schema_version = dmarcflow_schemas::SCHEMA_VERSION.to_string();
        let reporter_auth = item.reporter.as_ref().map(|a| a.to_header());
        let sends = bodies.iter().map(|body| {
            let mut headers = OwnedHeaders::new()
                .insert(Header {
                    key: header::ORIGIN,
                    value: Some(item.origin.as_str()),
                })
                .insert(Header {
                    key: header::RECEIVED_AT,
                    value: Some(received_at.as_str()),
                })
                .insert(Header {
                    key: header::SCHEMA_VERSION,
                    value: Some(schema_version.as_str()),
                });
            if let Some(auth) = &reporter_auth {
                headers = headers.insert(Header {
                    key: header::REPORTER_AUTH,
                    value: Some(auth.as_str()),
                });
            }
            let record = FutureRecord::to(topic)
                .key(key)
                .payload(body.as_slice())
                .headers(headers);
            deliver(&producer, record)
        });
        try_join_all(sends).await?;
        Ok(())
    }

    /// The producer in use (cheap: a handle).
    fn current(&self) -> FutureProducer {
        match self.producer.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// An idempotent producer that hit a fatal error (say, a broker that lost
    /// its producer state) stays unusable: replace it with a new one.
    fn renew_if_fatal(&self) {
        if self.current().client().fatal_error().is_some() {
            self.renew();
        }
    }

    /// Replaces the producer with a new one; the old one purges what it
    /// still queued when its last user drops it.
    pub fn renew(&self) {
        if let (Ok(fresh), Ok(mut slot)) = (producer(&self.config), self.producer.write()) {
            tracing::warn!("kafka producer replaced");
            *slot = fresh;
            self.topics_known
                .store(false, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Publishes an input that yielded no report: its raw bytes, with the
    /// reason and origin as headers.
    pub async fn dead_letter(
        &self,
        raw: &[u8],
        rejected: &Rejected,
        received_at: i64,
    ) -> Result<(), BusError> {
        let raw = &raw[..raw.len().min(self.max_message_bytes)];
        let received_at = received_at.to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: header::ORIGIN,
                value: Some(rejected.origin.as_str()),
            })
            .insert(Header {
                key: header::REASON,
                value: Some(rejected.reason),
            })
            .insert(Header {
                key: header::ERROR,
                value: Some(rejected.error.as_str()),
            })
            .insert(Header {
                key: header::RECEIVED_AT,
                value: Some(received_at.as_str()),
            });
        let record = FutureRecord::to(&self.topics.dead_letter)
            .key(rejected.path.as_str())
            .payload(raw)
            .headers(headers);
        deliver(&self.current(), record).await
    }

    /// Archives an original input (when configured), for replay after a
    /// parser fix.
    pub async fn archive(&self, raw: &[u8], origin: &str) -> Result<(), BusError> {
        if !self.archive_raw {
            return Ok(());
        }
        let raw = &raw[..raw.len().min(self.max_message_bytes)];
        let headers = OwnedHeaders::new().insert(Header {
            key: header::ORIGIN,
            value: Some(origin),
        });
        let record = FutureRecord::to(&self.topics.raw)
            .key(origin)
            .payload(raw)
            .headers(headers);
        deliver(&self.current(), record).await
    }

    /// The message bodies of a report: one, or the parts of an aggregate
    /// report cut until each fits.
    fn bodies(&self, report: &Report<'_>) -> Result<Vec<Vec<u8>>, BusError> {
        let body = encode(report);
        if body.len() <= self.max_message_bytes {
            return Ok(vec![body]);
        }
        let Report::Aggregate(aggregate) = report else {
            return Err(BusError::TooLarge(body.len()));
        };
        if aggregate.records.len() < 2 {
            return Err(BusError::TooLarge(body.len()));
        }
        // Records per part from the average size, with room to spare; a part
        // still too large is cut again.
        let per_record = body.len() / aggregate.records.len();
        let fit = (self.max_message_bytes * 8 / 10 / per_record.max(1)).max(1);
        let mut out = Vec::new();
        for part in aggregate.clone().split(fit) {
            out.extend(self.bodies(&Report::Aggregate(part))?);
        }
        Ok(out)
    }
}

fn unknown_topic(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::{
        UnknownPartition, UnknownTopic, UnknownTopicOrPartition,
    };
    matches!(
        e.rdkafka_error_code(),
        Some(UnknownTopicOrPartition | UnknownTopic | UnknownPartition)
    )
}

/// An idempotent, acks=all producer for `config`.
fn producer(config: &KafkaConfig) -> Result<FutureProducer, BusError> {
    Ok(config
        .client()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", &config.compression)
        .set("linger.ms", config.linger_ms.to_string())
        .set(
            "message.max.bytes",
            (config.max_message_bytes + 64 * 1024).to_string(),
        )
        .set(
            "delivery.timeout.ms",
            DELIVERY_TIMEOUT.as_millis().to_string(),
        )
        .create()?)
}

/// Sends of a message whose acknowledgement keeps coming without an offset.
const UNCONFIRMED_ATTEMPTS: usize = 4;

/// Sends one message and waits for the broker's acknowledgement: one that
/// places it at an offset. librdkafka also reports success, with no offset,
/// when the broker answers a first send with DUPLICATE_SEQUENCE_NUMBER
/// (its reading: an earlier try was stored), and a freshly created partition
/// under load has been seen to answer so for a batch it never stored (the
/// topic then lacks the message): such a message is sent again, a copy the
/// sink's dedup absorbs should the first have been stored after all.
async fn deliver(
    producer: &FutureProducer,
    record: FutureRecord<'_, str, [u8]>,
) -> Result<(), BusError> {
    for attempt in 1..=UNCONFIRMED_ATTEMPTS {
        let send = FutureRecord {
            topic: record.topic,
            partition: record.partition,
            payload: record.payload,
            key: record.key,
            timestamp: record.timestamp,
            headers: record.headers.clone(),
        };
        let delivery = producer
            .send(send, DELIVERY_TIMEOUT)
            .await
            .map_err(|(e, _)| BusError::Kafka(e))?;
        if placed(&delivery) {
            return Ok(());
        }
        metrics::counter!("dmarcflow_kafka_unconfirmed_total", "topic" => record.topic.to_owned())
            .increment(1);
        tracing::warn!(
            topic = record.topic,
            partition = delivery.partition,
            attempt,
            "kafka acknowledged a message without an offset; sending it again"
        );
    }
    Err(BusError::Unconfirmed {
        topic: record.topic.to_owned(),
        attempts: UNCONFIRMED_ATTEMPTS,
    })
}

/// Whether an acknowledgement names where the message is (acks=all
/// always gives the offset of a message the broker appended).
fn placed(delivery: &rdkafka::producer::future_producer::Delivery) -> bool {
    delivery.offset >= 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::producer::future_producer::Delivery;
    use rdkafka::Timestamp;

    #[test]
    fn an_acknowledgement_without_offset_is_not_a_placement() {
        let at = |offset| Delivery {
            partition: 2,
            offset,
            timestamp: Timestamp::NotAvailable,
        };
        assert!(placed(&at(0)));
        assert!(placed(&at(421)));
        // RD_KAFKA_OFFSET_INVALID: what the duplicate-sequence path reports.
        assert!(!placed(&at(-1001)));
    }
}
