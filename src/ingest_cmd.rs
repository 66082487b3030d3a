//! `dmarcflow ingest PATH...`: the files source into Kafka (backfill).
//! Reports go to their topics (large ones in parts), rejected inputs to the
//! dead-letter topic with their reason. An input is recorded as done in the
//! state file only once the broker acknowledged everything it produced, so
//! a rerun skips what was published and redoes what was cut short (the
//! sink's dedup is the second guard).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use dmarcflow_bus::{ensure_topics, KafkaConfig, KafkaPublisher};
use dmarcflow_ingest::files::{discover, FilesSource, Found, Input};
use indicatif::ProgressBar;
use tokio::sync::Semaphore;

use crate::IngestArgs;

/// Reports in flight to the broker at once.
const IN_FLIGHT: usize = 512;

/// Inputs read ahead of the oldest one not yet acknowledged.
const INPUTS_IN_FLIGHT: usize = 64;

#[derive(Debug, Default)]
pub struct IngestSummary {
    pub inputs: u64,
    pub skipped: u64,
    pub reports: u64,
    pub rejected: u64,
}

pub fn run(args: &IngestArgs, kafka: &KafkaConfig) -> Result<IngestSummary> {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime
        .block_on(ensure_topics(kafka))
        .context("creating the Kafka topics")?;
    let publisher = Arc::new(KafkaPublisher::new(kafka)?);
    let done = load_state(&args.state)?;
    let mut state = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.state)
        .with_context(|| format!("opening {}", args.state.display()))?;
    let inputs = discover(&args.paths)?;
    let source = FilesSource::default();
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let progress = if args.progress {
        ProgressBar::new(inputs.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    let mut summary = IngestSummary::default();
    let mut pending = std::collections::VecDeque::new();
    for input in &inputs {
        progress.inc(1);
        let key = state_key(input);
        if done.contains(&key) {
            summary.skipped += 1;
            continue;
        }
        summary.inputs += 1;
        let received_at = dmarcflow_ingest::received_now();
        let mut sends = Vec::new();
        // The input's bytes for dead letters and the archive, read at most once.
        let mut raw: Option<Arc<Vec<u8>>> = None;
        source.read(input, received_at, |found| -> Result<()> {
            let publisher = publisher.clone();
            let permit = runtime.block_on(permits.clone().acquire_owned())?;
            match found {
                Found::Report(report) => {
                    summary.reports += 1;
                    sends.push(runtime.spawn(async move {
                        let _permit = permit;
                        publisher.publish(&report).await
                    }));
                }
                Found::Rejected(rejected) => {
                    summary.rejected += 1;
                    let raw = read_once(&mut raw, input).unwrap_or_default();
                    sends.push(runtime.spawn(async move {
                        let _permit = permit;
                        publisher.dead_letter(&raw, &rejected, received_at).await
                    }));
                }
            }
            Ok(())
        })?;
        if kafka.archive_raw {
            let raw = read_once(&mut raw, input)?;
            let origin = input.path.display().to_string();
            runtime.block_on(publisher.archive(&raw, &origin))?;
        }
        pending.push_back((input, key, sends));
        if pending.len() > INPUTS_IN_FLIGHT {
            while let Some(done) = pending.pop_front() {
                acknowledge(&runtime, &mut state, done)?;
            }
            state.sync_data()?;
        }
    }
    while let Some(done) = pending.pop_front() {
        acknowledge(&runtime, &mut state, done)?;
    }
    state.sync_data()?;
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
        crate::sources::run(config, || Ok(KafkaPublisher::new(kafka)?), stop.subscribe()).await
    })
}

/// An input's bytes, read on first use and shared after.
fn read_once(cache: &mut Option<Arc<Vec<u8>>>, input: &Input) -> std::io::Result<Arc<Vec<u8>>> {
    if let Some(raw) = cache {
        return Ok(raw.clone());
    }
    let raw = Arc::new(std::fs::read(&input.path)?);
    *cache = Some(raw.clone());
    Ok(raw)
}

/// An input whose messages are on their way: its state key and sends.
type Pending<'i> = (
    &'i Input,
    String,
    Vec<tokio::task::JoinHandle<Result<(), dmarcflow_bus::BusError>>>,
);

/// Waits for every message of an input (in input order), then records the
/// input as done.
fn acknowledge(
    runtime: &tokio::runtime::Runtime,
    state: &mut File,
    (input, key, sends): Pending<'_>,
) -> Result<()> {
    for send in sends {
        runtime
            .block_on(send)
            .map_err(|e| anyhow!("a publishing task failed: {e}"))?
            .with_context(|| format!("publishing {}", input.path.display()))?;
    }
    // Synced in groups (see `run`): a line lost to a crash before its sync
    // only means that input is published again, which the sink's dedup absorbs.
    writeln!(state, "{key}")?;
    Ok(())
}

/// An input's identity in the state file: path, size and modification time.
fn state_key(input: &Input) -> String {
    let mtime = std::fs::metadata(&input.path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    format!("{}\t{}\t{mtime}", input.path.display(), input.size)
}

fn load_state(path: &Path) -> Result<std::collections::HashSet<String>> {
    match File::open(path) {
        Ok(f) => Ok(BufReader::new(f).lines().collect::<Result<_, _>>()?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
