//! The Kafka bus: topics (`topics`), the publishing side used by sources
//! (`producer`), and its configuration (`config`). The consuming side is the
//! sink service in the store crate. Messages follow
//! `dmarcflow_schemas::message`.

mod config;
mod producer;
mod topics;

pub use config::KafkaConfig;
pub use producer::KafkaPublisher;
pub use topics::ensure_topics;

/// A bus failure.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("kafka topics: {0}")]
    Topic(String),
    #[error("a report of {0} bytes does not fit in a message and cannot be split")]
    TooLarge(usize),
    #[error("the broker did not acknowledge in time")]
    Timeout,
    #[error("the in-process bus is closed: the store has stopped")]
    Closed,
    #[error("dead-letter file: {0}")]
    DeadLetterFile(String),
}
