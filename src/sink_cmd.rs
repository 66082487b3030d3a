//! `dmarcflow sink`: the report topics into the configured store (see
//! `dmarcflow_sink`). Offsets are committed only after the store
//! confirmed a batch.

use std::time::Duration;

use anyhow::{Context, Result};
use dmarcflow_bus::ensure_topics;
use dmarcflow_sink::{SinkService, SinkSummary, Until};
use dmarcflow_store::Store;

use crate::config::Config;

#[derive(clap::Args)]
pub struct SinkArgs {
    /// Stop after this many seconds without a message (default: run until killed).
    #[arg(long)]
    pub until_idle: Option<f64>,
}

pub fn run(
    args: &SinkArgs,
    config: &Config,
    kafka: &dmarcflow_bus::KafkaConfig,
) -> Result<SinkSummary> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let until = match args.until_idle {
        Some(seconds) => Until::Idle(Duration::from_secs_f64(seconds)),
        None => Until::Forever,
    };
    let summary = runtime.block_on(async {
        crate::metrics_endpoint::install(config.metrics_listen.as_deref())?;
        let mut store = Store::open(&config.store).await?;
        // A sink started before any ingester would subscribe to topics that
        // do not exist yet, and librdkafka notices them only at its next
        // metadata refresh (minutes): create them first.
        ensure_topics(kafka)
            .await
            .context("creating the Kafka topics")?;
        // Reports published without their sources' enrichment get it here.
        let enricher = match &config.enrich {
            Some(c) => Some(std::sync::Arc::new(
                dmarcflow_enrich::Enricher::open(c).context("[enrich]")?,
            )),
            None => None,
        };
        let mut service = SinkService::new(kafka)?.with_enricher(enricher);
        // [alerts] interval_minutes and [posture] interval_hours: the rules
        // and the posture watch on their schedules beside the sink.
        let (stop_schedules, stopped) = tokio::sync::watch::channel(false);
        let alerts = crate::alerts_cmd::schedule(config, crate::shutdown::stopped(stopped.clone()));
        let posture = crate::check_cmd::schedule(config, crate::shutdown::stopped(stopped));
        let schedules = async {
            tokio::join!(alerts, posture);
        };
        let sink = async {
            let summary = service
                .run(
                    &mut store,
                    config.batch,
                    until,
                    crate::shutdown::signalled(),
                )
                .await;
            let _ = stop_schedules.send(true);
            summary
        };
        let (summary, ()) = tokio::join!(sink, schedules);
        anyhow::Ok(summary?)
    })?;
    eprintln!(
        "{} messages: {} reports stored, {} already stored, {} rows, {} to the dead-letter topic",
        summary.messages,
        summary.stored.reports,
        summary.stored.duplicates,
        summary.stored.rows,
        summary.dead_letters
    );
    Ok(summary)
}
