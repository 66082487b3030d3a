//! A bus failure, on either side.

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
    #[error("a message to {topic} was acknowledged {attempts} times without an offset: not known to be stored")]
    Unconfirmed { topic: String, attempts: usize },
    #[error("the in-process bus is closed: the store has stopped")]
    Closed,
    #[error("dead-letter file: {0}")]
    DeadLetterFile(String),
}
