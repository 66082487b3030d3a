//! The baseline of `dmarcflow ingest` in `benches/e2e/run.sh`: a bare
//! librdkafka producer sending already serialized reports (the JSON lines
//! `dmarcflow parse` prints, which are the Kafka message bodies) with the
//! settings `dmarcflow ingest` uses: idempotent, acks=all, the same
//! compression and linger, the same key (the report id) and headers, one
//! topic of the same partitions. Everything is read into memory first; the
//! time printed (seconds, on stdout) runs from the first send to the last
//! acknowledgement.
//!
//!   bare-produce BROKERS TOPIC MESSAGES.jsonl [COMPRESSION] [LINGER_MS] [PARTITIONS]

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, brokers, topic, path, rest @ ..] = args.as_slice() else {
        return Err("usage: bare-produce BROKERS TOPIC MESSAGES.jsonl [COMPRESSION] [LINGER_MS] [PARTITIONS]".into());
    };
    let compression = rest.first().map_or("lz4", String::as_str);
    let linger = rest.get(1).map_or("20", String::as_str);
    let partitions: i32 = rest.get(2).and_then(|p| p.parse().ok()).unwrap_or(6);
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let messages: Vec<(String, &str)> = text
        .lines()
        .map(|line| {
            let id = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned))
                .unwrap_or_default();
            (id, line)
        })
        .collect();

    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    let admin: AdminClient<DefaultClientContext> = config.create().map_err(|e| e.to_string())?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    admin
        .create_topics([&new], &AdminOptions::new())
        .await
        .map_err(|e| e.to_string())?;
    // A new topic's partitions answer once they have leaders: wait for
    // that before the clock starts (`ingest` creates its topics before it
    // reads too).
    let waiting = Instant::now();
    loop {
        let ready = admin
            .inner()
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map(|m| {
                m.topics().iter().all(|t| {
                    t.partitions().len() == partitions as usize
                        && t.partitions().iter().all(|p| p.leader() >= 0)
                })
            })
            .unwrap_or(false);
        if ready || waiting.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let producer: FutureProducer = config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", compression)
        .set("linger.ms", linger)
        .set("message.max.bytes", (900_000 + 64 * 1024).to_string())
        .create()
        .map_err(|e| e.to_string())?;

    let started = Instant::now();
    let sends = messages.iter().map(|(key, body)| {
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "dmarcflow-origin",
                value: Some("bench"),
            })
            .insert(Header {
                key: "dmarcflow-received-at",
                value: Some("1700000000"),
            })
            .insert(Header {
                key: "dmarcflow-schema-version",
                value: Some("1"),
            });
        let record = FutureRecord::to(topic)
            .key(key.as_str())
            .payload(body.as_bytes())
            .headers(headers);
        producer.send(record, Duration::from_secs(120))
    });
    let delivered = futures_util::future::join_all(sends).await;
    let seconds = started.elapsed().as_secs_f64();
    let failed = delivered.iter().filter(|d| d.is_err()).count();
    if failed > 0 {
        return Err(format!("{failed} of {} messages failed", messages.len()));
    }
    println!("{seconds:.3}");
    Ok(())
}
