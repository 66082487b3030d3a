//! `dmarcflow ingest PATH...`: the files source into Kafka (backfill), and
//! `dmarcflow ingest` without paths: the network sources into Kafka. The
//! backfill engine (reader threads, the in-flight window, the resumable
//! state file) is `dmarcflow_ingest::files::backfill`; this is its wiring.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use dmarcflow_bus::{ensure_topics, KafkaConfig, KafkaPublisher};
use dmarcflow_ingest::files::backfill::{Backfill, BackfillSummary};
use dmarcflow_ingest::files::discover;
use indicatif::ProgressBar;

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Files or directories (walked recursively). Without any, the network
    /// sources of the configuration run ([smtp], [http], [imap]) until
    /// SIGINT or SIGTERM.
    pub paths: Vec<PathBuf>,
    /// What was published already (one line per input).
    #[arg(long, default_value = "dmarcflow-ingest.state")]
    pub state: PathBuf,
    /// Show a progress bar.
    #[arg(long)]
    pub progress: bool,
}

/// Publishes every input under `args.paths` not recorded in the state file
/// yet; prints and returns what it did.
pub fn run(
    args: &IngestArgs,
    config: &crate::config::Config,
    kafka: &KafkaConfig,
) -> Result<BackfillSummary> {
    // [privacy] first: a bad key stops the command before anything else.
    let privacy = crate::privacy_cmd::open(config)?;
    let started = Instant::now();
    let enrich = config.enrich.as_ref();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime
        .block_on(ensure_topics(kafka))
        .context("creating the Kafka topics")?;
    let publisher = Arc::new(KafkaPublisher::new(kafka)?);
    let enricher = match enrich {
        Some(config) => {
            let _inside = runtime.enter();
            Some(dmarcflow_enrich::Enricher::open(config).context("[enrich]")?)
        }
        None => None,
    };
    let inputs = discover(&args.paths)?;
    let progress = if args.progress {
        ProgressBar::new(inputs.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    let backfill = Backfill {
        publisher,
        enricher: enricher.as_ref(),
        archive_raw: kafka.archive_raw,
        privacy,
        state: args.state.clone(),
        progress: &|| progress.inc(1),
    };
    let summary = backfill.run(&inputs, &runtime)?;
    progress.finish_and_clear();
    eprintln!(
        "{} inputs read ({} already done), {} reports published, {} rejected to the dead-letter topic in {:.1} s",
        summary.inputs,
        summary.skipped,
        summary.reports,
        summary.rejected,
        started.elapsed().as_secs_f64()
    );
    Ok(summary)
}

/// Runs the configured network sources (SMTP/LMTP, HTTPS TLS-RPT, IMAP)
/// into Kafka until SIGINT or SIGTERM.
pub fn serve(config: &crate::config::Config, kafka: &KafkaConfig) -> Result<()> {
    let privacy = crate::privacy_cmd::open(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        ensure_topics(kafka)
            .await
            .context("creating the Kafka topics")?;
        crate::metrics_endpoint::install(config.metrics_listen.as_deref())?;
        let stop = crate::shutdown::on_signal();
        crate::sources::run(
            config,
            &privacy,
            || Ok(KafkaPublisher::new(kafka)?),
            stop.subscribe(),
        )
        .await
    })
}
