//! Consumer lag for the metrics: librdkafka computes it per assigned
//! partition (high watermark minus committed offset) in its statistics,
//! emitted every `STATS_INTERVAL_MS`; each becomes the gauge
//! `dmarcflow_sink_lag_messages{topic, partition}`.

use rdkafka::Statistics;

pub const STATS_INTERVAL_MS: &str = "10000";

pub fn record(statistics: Statistics) {
    for (topic, t) in statistics.topics {
        for (partition, p) in t.partitions {
            // -1: the internal "unassigned" partition, or lag not known yet.
            if partition < 0 || p.consumer_lag < 0 {
                continue;
            }
            metrics::gauge!(
                "dmarcflow_sink_lag_messages",
                "topic" => topic.clone(),
                "partition" => partition.to_string()
            )
            .set(p.consumer_lag as f64);
        }
    }
}
