//! `dmarcflow run` without paths: the configured network sources (SMTP/LMTP,
//! HTTPS TLS-RPT, IMAP) and the store in one process, until SIGINT or
//! SIGTERM. With Kafka configured the sources publish to it and a sink in
//! the same process consumes it (as `ingest` and `sink` would apart);
//! without, the acknowledged in-process bus carries reports straight to
//! the store and dead letters go to a JSON-lines file. Either way a source
//! acknowledges a message only once it is durable.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use dmarcflow_bus::{ensure_topics, KafkaPublisher};
use dmarcflow_bus::{in_process_acked, DeadLetterFile};
use dmarcflow_sink::{SinkService, Until};
use dmarcflow_store::Store;

use crate::config::Config;
use crate::run_cmd::RunArgs;

/// Reports in flight between the sources and the store.
const IN_FLIGHT: usize = 1024;

/// How long the store may keep writing once the sources stopped (network
/// connections still open finish meanwhile; what is cut off was never
/// acknowledged, so its sender retries).
const DRAIN: Duration = Duration::from_secs(30);

pub fn serve(args: &RunArgs, config: &Config) -> Result<()> {
    // [privacy]: keys and secret read first, so a bad one stops the start.
    let privacy = crate::privacy_cmd::open(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        crate::metrics_endpoint::install(config.metrics_listen.as_deref())?;
        let stop = crate::shutdown::on_signal();
        // [alerts] interval_minutes: the rules on a schedule, until stopped.
        let alerts =
            crate::alerts_cmd::schedule(config, crate::shutdown::stopped(stop.subscribe()));
        // [posture]: every domain re-checked on its schedule, until stopped.
        let posture =
            crate::check_cmd::schedule(config, crate::shutdown::stopped(stop.subscribe()));
        let schedules = async {
            tokio::join!(alerts, posture);
        };
        let services = async {
            let mut store = Store::open(&config.store).await?;
            let outcome = match &config.kafka {
                Some(kafka) => {
                    ensure_topics(kafka)
                        .await
                        .context("creating the Kafka topics")?;
                    let mut service = SinkService::new(kafka)?;
                    let sink = service.run(
                        &mut store,
                        config.batch,
                        Until::Forever,
                        crate::shutdown::stopped(stop.subscribe()),
                    );
                    let sources = async {
                        let ran = crate::sources::run(
                            config,
                            &privacy,
                            || Ok(KafkaPublisher::new(kafka)?),
                            stop.subscribe(),
                        )
                        .await;
                        let _ = stop.send(true);
                        ran
                    };
                    let (ran, sunk) = tokio::join!(sources, sink);
                    let summary = sunk?;
                    eprintln!(
                        "{} reports stored, {} already stored, {} to the dead-letter topic",
                        summary.stored.reports, summary.stored.duplicates, summary.dead_letters
                    );
                    ran
                }
                None => {
                    let path = args
                        .rejects
                        .clone()
                        .unwrap_or_else(|| PathBuf::from("dmarcflow-dead-letters.jsonl"));
                    let dead_letters = DeadLetterFile::open(&path)
                        .with_context(|| format!("opening {}", path.display()))?;
                    eprintln!("dead letters go to {}", path.display());
                    let (publisher, subscriber) = in_process_acked(IN_FLIGHT, dead_letters);
                    let batching = config.batch;
                    let consumer =
                        tokio::spawn(
                            async move { store.consume_acked(subscriber, batching).await },
                        );
                    let ran = crate::sources::run(
                        config,
                        &privacy,
                        || Ok(publisher.clone()),
                        stop.subscribe(),
                    )
                    .await;
                    drop(publisher);
                    match tokio::time::timeout(DRAIN, consumer).await {
                        Ok(stored) => {
                            let stored = stored??;
                            eprintln!(
                                "{} reports stored, {} already stored, {} rows",
                                stored.reports, stored.duplicates, stored.rows
                            );
                        }
                        Err(_) => {
                            tracing::warn!("connections still open at exit; their senders retry")
                        }
                    }
                    ran
                }
            };
            outcome
        };
        // However the services end (an error too), the schedule stops.
        let services = async {
            let outcome: Result<()> = services.await;
            let _ = stop.send(true);
            outcome
        };
        let (outcome, ()) = tokio::join!(services, schedules);
        outcome
    })
}
