//! Where the Kafka bus connects and how its topics are made.

use dmarcflow_schemas::message::Topics;

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `host:port,host:port`.
    pub brokers: String,
    /// Topic names are `<prefix>.aggregate`, `.failure`, `.tlsrpt`,
    /// `.dead-letter`, `.raw`.
    pub topic_prefix: String,
    /// Partitions and replication for topics created when missing.
    pub partitions: i32,
    pub replication: i32,
    /// The largest message body sent; larger aggregate reports are split into
    /// parts. Keep it under the broker's `message.max.bytes` (1 MB default).
    pub max_message_bytes: usize,
    /// Publish every original input to the raw archive topic too.
    pub archive_raw: bool,
    /// `compression.type` for the producer (lz4, zstd, gzip, snappy, none).
    pub compression: String,
    /// Further librdkafka properties, passed as they are.
    pub extra: Vec<(String, String)>,
}

impl KafkaConfig {
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            topic_prefix: "dmarcflow".to_owned(),
            partitions: 6,
            replication: 1,
            max_message_bytes: 900_000,
            archive_raw: false,
            compression: "lz4".to_owned(),
            extra: Vec::new(),
        }
    }

    pub fn topics(&self) -> Topics {
        Topics::with_prefix(&self.topic_prefix)
    }

    /// The base client configuration (brokers plus the extra properties).
    pub fn client(&self) -> rdkafka::ClientConfig {
        let mut c = rdkafka::ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.extra {
            c.set(k, v);
        }
        c
    }
}
