//! One Kafka configuration for both sides of the bus: where the brokers
//! are, how topics are named and made, how the producer sends and how the
//! sink's consumer group is formed. `client()` is the base every client
//! (producer, consumer, admin) starts from.

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
    /// `linger.ms` for the producer: how long a message waits for others to
    /// share its request.
    pub linger_ms: u32,
    /// The sink's consumer group: sink instances sharing it share the
    /// partitions.
    pub group: String,
    /// Static group membership (`group.instance.id`): a sink restarted with
    /// the same id takes its partitions back at once instead of after the
    /// dead session expires. One distinct id per running instance.
    pub instance_id: Option<String>,
    /// The consumer's `session.timeout.ms`: a sink silent this long loses
    /// its partitions to the others.
    pub session_timeout_ms: u32,
    /// Further librdkafka properties, passed as they are to every client
    /// (`[kafka.librdkafka]`).
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
            linger_ms: 20,
            group: "dmarcflow-sink".to_owned(),
            instance_id: None,
            session_timeout_ms: 10_000,
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

    /// A property as the clients will see it: from `extra` when set there.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}
