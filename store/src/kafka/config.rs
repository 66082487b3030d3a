//! Where the sink service consumes from.

use dmarcflow_schemas::message::Topics;

#[derive(Debug, Clone)]
pub struct KafkaSinkConfig {
    pub brokers: String,
    pub topic_prefix: String,
    /// The consumer group: sink instances sharing it share the partitions.
    pub group: String,
    /// Static group membership (`group.instance.id`): a sink restarted with
    /// the same id takes its partitions back at once instead of after the
    /// dead session expires. One distinct id per running instance.
    pub instance_id: Option<String>,
    /// Further librdkafka properties, passed as they are.
    pub extra: Vec<(String, String)>,
}

impl KafkaSinkConfig {
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            topic_prefix: "dmarcflow".to_owned(),
            group: "dmarcflow-sink".to_owned(),
            instance_id: None,
            extra: Vec::new(),
        }
    }

    pub fn topics(&self) -> Topics {
        Topics::with_prefix(&self.topic_prefix)
    }
}
