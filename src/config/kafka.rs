//! `[kafka]`: the brokers, topics, group and client settings for both
//! sides of the bus (`DMARCFLOW_KAFKA_*`); absent, `run` uses the
//! in-process bus.

use anyhow::{bail, Context, Result};
use dmarcflow_bus::KafkaConfig;
use serde::Deserialize;

use super::value::number;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSection {
    pub brokers: Option<String>,
    pub topic_prefix: Option<String>,
    pub partitions: Option<i32>,
    pub replication: Option<i32>,
    pub group: Option<String>,
    pub instance_id: Option<String>,
    pub max_message_bytes: Option<usize>,
    pub compression: Option<String>,
    pub archive_raw: Option<bool>,
    pub linger_ms: Option<u32>,
    pub session_timeout_ms: Option<u32>,
    /// Further librdkafka properties, for every client (`[kafka.librdkafka]`).
    pub librdkafka: Option<std::collections::BTreeMap<String, String>>,
}

pub fn kafka(
    kafka_section: KafkaSection,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<KafkaConfig>> {
    Ok(
        match env("DMARCFLOW_KAFKA_BROKERS").or(kafka_section.brokers) {
            Some(brokers) if !brokers.is_empty() => {
                let mut publish = KafkaConfig::new(&brokers);
                if let Some(prefix) =
                    env("DMARCFLOW_KAFKA_TOPIC_PREFIX").or(kafka_section.topic_prefix)
                {
                    publish.topic_prefix = prefix;
                }
                if let Some(group) = env("DMARCFLOW_KAFKA_GROUP").or(kafka_section.group) {
                    publish.group = group;
                }
                publish.instance_id =
                    env("DMARCFLOW_KAFKA_INSTANCE_ID").or(kafka_section.instance_id);
                if let Some(n) = number(
                    env,
                    "DMARCFLOW_KAFKA_LINGER_MS",
                    kafka_section.linger_ms.map(u64::from),
                )? {
                    publish.linger_ms = u32::try_from(n).context("DMARCFLOW_KAFKA_LINGER_MS")?;
                }
                if let Some(n) = kafka_section.session_timeout_ms {
                    publish.session_timeout_ms = n;
                }
                publish.extra = kafka_section
                    .librdkafka
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                // DMARCFLOW_KAFKA_LIBRDKAFKA: `name=value,name=value`, after the file's.
                if let Some(list) = env("DMARCFLOW_KAFKA_LIBRDKAFKA") {
                    for pair in list.split(',').filter(|p| !p.trim().is_empty()) {
                        let Some((name, value)) = pair.split_once('=') else {
                            bail!("DMARCFLOW_KAFKA_LIBRDKAFKA: {pair:?} is not name=value");
                        };
                        publish
                            .extra
                            .push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
                if let Some(n) = kafka_section.partitions {
                    publish.partitions = n;
                }
                if let Some(n) = kafka_section.replication {
                    publish.replication = n;
                }
                if let Some(n) = kafka_section.max_message_bytes {
                    publish.max_message_bytes = n;
                }
                if let Some(c) = env("DMARCFLOW_KAFKA_COMPRESSION").or(kafka_section.compression) {
                    publish.compression = c;
                }
                publish.archive_raw = match env("DMARCFLOW_KAFKA_ARCHIVE_RAW") {
                    Some(v) => matches!(v.trim(), "1" | "true" | "yes"),
                    None => kafka_section.archive_raw.unwrap_or(false),
                };
                Some(publish)
            }
            _ => None,
        },
    )
}
