//! `dmarcflow ingest PATH...`: the files source into Kafka (backfill).
//! Reports go to their topics (large ones in parts), rejected inputs to the
//! dead-letter topic with their reason. An input is recorded as done in the
//! state file only once the broker acknowledged everything it produced, so
//! a rerun skips what was published and redoes what was cut short (the
//! sink's dedup is the second guard).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use dmarcflow_bus::{ensure_topics, KafkaConfig, KafkaPublisher};
use dmarcflow_ingest::files::{discover, FilesSource, Found, Input};
use indicatif::ProgressBar;
use tokio::sync::Semaphore;

use crate::IngestArgs;

/// Reports in flight to the broker at once.
const IN_FLIGHT: usize = 2048;

/// Inputs read ahead of the oldest one not yet acknowledged.
const INPUTS_IN_FLIGHT: usize = 1024;

/// Acknowledged inputs between syncs of the state file.
const SYNC_EVERY: usize = 1000;

#[derive(Debug, Default)]
pub struct IngestSummary {
    pub inputs: u64,
    pub skipped: u64,
    pub reports: u64,
    pub rejected: u64,
}

/// Reads the inputs on one thread per core, each report handed to the
/// producer as soon as it is parsed (nothing waits for the broker there),
/// while this thread awaits the acknowledgements input by input and records
/// each acknowledged input in the state file (synced every `SYNC_EVERY`
/// inputs and at the end: a line lost to a crash only means that input is
/// published again, which the sink's dedup absorbs).
pub fn run(
    args: &IngestArgs,
    kafka: &KafkaConfig,
    enrich: Option<&dmarcflow_enrich::EnrichConfig>,
) -> Result<IngestSummary> {
    let started = Instant::now();
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
    let done = load_state(&args.state)?;
    let mut state = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.state)
        .with_context(|| format!("opening {}", args.state.display()))?;
    let inputs = discover(&args.paths)?;
    let progress = if args.progress {
        ProgressBar::new(inputs.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    let readers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let reader = Reader {
        source: FilesSource::default(),
        inputs: &inputs,
        next: AtomicUsize::new(0),
        done: &done,
        publisher: &publisher,
        runtime: runtime.handle(),
        permits: Arc::new(Semaphore::new(IN_FLIGHT)),
        archive_raw: kafka.archive_raw,
        enricher: enricher.as_ref(),
        counts: Counts::default(),
        progress: &progress,
    };
    let (pending_tx, pending_rx) =
        std::sync::mpsc::sync_channel::<Result<Pending<'_>>>(INPUTS_IN_FLIGHT);
    let acknowledged = std::thread::scope(|scope| -> Result<()> {
        for _ in 0..readers {
            let pending_tx = pending_tx.clone();
            let reader = &reader;
            scope.spawn(move || reader.read_all(&pending_tx));
        }
        drop(pending_tx);
        let mut unsynced = 0;
        // Until every reader is done; a failure stops the readers (they
        // find the channel closed) and is returned once they have stopped.
        for pending in pending_rx {
            acknowledge(&runtime, &mut state, pending?)?;
            unsynced += 1;
            if unsynced >= SYNC_EVERY {
                state.sync_data()?;
                unsynced = 0;
            }
        }
        state.sync_data()?;
        Ok(())
    });
    acknowledged?;
    progress.finish_and_clear();
    let summary = reader.counts.summary();
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

/// What the reader threads share: the inputs, taken one at a time.
struct Reader<'a> {
    source: FilesSource,
    inputs: &'a [Input],
    next: AtomicUsize,
    done: &'a HashSet<String>,
    publisher: &'a Arc<KafkaPublisher>,
    runtime: &'a tokio::runtime::Handle,
    permits: Arc<Semaphore>,
    archive_raw: bool,
    /// `[enrich]`: who each source address is, added before publishing.
    enricher: Option<&'a dmarcflow_enrich::Enricher>,
    counts: Counts,
    progress: &'a ProgressBar,
}

#[derive(Debug, Default)]
struct Counts {
    inputs: AtomicU64,
    skipped: AtomicU64,
    reports: AtomicU64,
    rejected: AtomicU64,
}

impl Counts {
    fn summary(&self) -> IngestSummary {
        IngestSummary {
            inputs: self.inputs.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            reports: self.reports.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

impl<'a> Reader<'a> {
    /// Takes inputs until none is left or the acknowledger has gone.
    fn read_all(&self, pending: &std::sync::mpsc::SyncSender<Result<Pending<'a>>>) {
        loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(input) = self.inputs.get(n) else {
                return;
            };
            self.progress.inc(1);
            let key = state_key(input);
            if self.done.contains(&key) {
                self.counts.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            self.counts.inputs.fetch_add(1, Ordering::Relaxed);
            let read = self.read(input).map(|sends| (input, key, sends));
            if pending.send(read).is_err() {
                return;
            }
        }
    }

    /// Parses one input, handing every report (and rejection) to the
    /// producer; the sends, to await.
    fn read(&self, input: &Input) -> Result<Vec<Send>> {
        let received_at = dmarcflow_ingest::received_now();
        let mut sends = Vec::new();
        // The input's bytes for dead letters and the archive, read at most once.
        let mut raw: Option<Arc<Vec<u8>>> = None;
        self.source
            .read(input, received_at, |found| -> Result<()> {
                let publisher = self.publisher.clone();
                let permit = self
                    .runtime
                    .block_on(self.permits.clone().acquire_owned())?;
                match found {
                    Found::Report(mut report) => {
                        self.counts.reports.fetch_add(1, Ordering::Relaxed);
                        if let Some(enricher) = self.enricher {
                            self.runtime.block_on(enricher.report(&mut report.report));
                        }
                        sends.push(self.runtime.spawn(async move {
                            let _permit = permit;
                            publisher.publish(&report).await
                        }));
                    }
                    Found::Rejected(rejected) => {
                        self.counts.rejected.fetch_add(1, Ordering::Relaxed);
                        let raw = read_once(&mut raw, input).unwrap_or_default();
                        sends.push(self.runtime.spawn(async move {
                            let _permit = permit;
                            publisher.dead_letter(&raw, &rejected, received_at).await
                        }));
                    }
                }
                Ok(())
            })?;
        if self.archive_raw {
            let raw = read_once(&mut raw, input)?;
            let origin = input.path.display().to_string();
            let publisher = self.publisher.clone();
            sends.push(
                self.runtime
                    .spawn(async move { publisher.archive(&raw, &origin).await }),
            );
        }
        Ok(sends)
    }
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

/// A message on its way to the broker.
type Send = tokio::task::JoinHandle<Result<(), dmarcflow_bus::BusError>>;

/// An input whose messages are on their way: its state key and sends.
type Pending<'i> = (&'i Input, String, Vec<Send>);

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

fn load_state(path: &Path) -> Result<HashSet<String>> {
    match File::open(path) {
        Ok(f) => Ok(BufReader::new(f).lines().collect::<Result<_, _>>()?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
