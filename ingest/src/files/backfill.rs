//! The backfill engine behind `dmarcflow ingest PATH...`: inputs read on
//! one thread per core, every report (large ones in parts) handed to the
//! Kafka producer as soon as it is parsed, rejected inputs to the
//! dead-letter topic with their reason.
//!
//! What is bounded, and why:
//! - reports in flight to the broker ([`IN_FLIGHT`]): the producer's queue
//!   and the memory of reports waiting for their acknowledgement;
//! - inputs read ahead of the oldest one not yet acknowledged
//!   ([`INPUTS_IN_FLIGHT`]): the readers never run away from the broker.
//!
//! Resuming: an input is recorded as done in the state file (its path,
//! size and modification time) only once the broker acknowledged
//! everything it produced, in input order; a rerun skips what was
//! published and redoes what was cut short. The file is synced every
//! [`SYNC_EVERY`] inputs and at the end: a line lost to a crash only means
//! that input is published again, which the sink's dedup absorbs.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use dmarcflow_bus::{BusError, KafkaPublisher};
use dmarcflow_enrich::Enricher;
use thiserror::Error;
use tokio::sync::Semaphore;

use super::{FilesSource, Found, Input};

/// Reports in flight to the broker at once.
pub const IN_FLIGHT: usize = 2048;
/// Inputs read ahead of the oldest one not yet acknowledged.
pub const INPUTS_IN_FLIGHT: usize = 1024;
/// Acknowledged inputs between syncs of the state file.
pub const SYNC_EVERY: usize = 1000;

#[derive(Debug, Error)]
pub enum BackfillError {
    #[error("the state file {path}: {source}")]
    State {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("publishing {path}: {source}")]
    Publish {
        path: PathBuf,
        #[source]
        source: BusError,
    },
    #[error("a publishing task failed: {0}")]
    Task(String),
    #[error("the runtime is shutting down")]
    Closed,
}

/// What a backfill did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackfillSummary {
    pub inputs: u64,
    pub skipped: u64,
    pub reports: u64,
    pub rejected: u64,
}

/// One backfill: where it publishes and remembers, and what it adds.
pub struct Backfill<'a> {
    pub publisher: Arc<KafkaPublisher>,
    /// `[enrich]`: who each source address is, added before publishing.
    pub enricher: Option<&'a Enricher>,
    /// Also publish every input whole to the raw archive topic.
    pub archive_raw: bool,
    /// `[privacy]`: failure reports protected as they are found, and the
    /// raw copies of failure-report emails (dead letters, the archive)
    /// sealed or withheld.
    pub privacy: dmarcflow_privacy::Privacy,
    /// Inputs acknowledged by earlier runs, one line each.
    pub state: PathBuf,
    /// Called once per input taken (a progress bar).
    pub progress: &'a (dyn Fn() + Sync),
}

impl Backfill<'_> {
    /// Publishes every input not done yet, on `runtime`; returns once the
    /// broker acknowledged all of it.
    pub fn run(
        &self,
        inputs: &[Input],
        runtime: &tokio::runtime::Runtime,
    ) -> Result<BackfillSummary, BackfillError> {
        let state_error = |source| BackfillError::State {
            path: self.state.clone(),
            source,
        };
        let done = load_state(&self.state).map_err(state_error)?;
        let mut state = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.state)
            .map_err(state_error)?;
        let reader = Reader {
            source: FilesSource {
                privacy: self.privacy.clone(),
                ..FilesSource::default()
            },
            inputs,
            next: AtomicUsize::new(0),
            done: &done,
            backfill: self,
            runtime: runtime.handle(),
            permits: Arc::new(Semaphore::new(IN_FLIGHT)),
            counts: Counts::default(),
        };
        let readers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (pending_tx, pending_rx) = std::sync::mpsc::sync_channel(INPUTS_IN_FLIGHT);
        std::thread::scope(|scope| -> Result<(), BackfillError> {
            for _ in 0..readers {
                let pending_tx = pending_tx.clone();
                let reader = &reader;
                scope.spawn(move || reader.read_all(&pending_tx));
            }
            drop(pending_tx);
            let mut unsynced = 0;
            // Until every reader is done; a failure stops the readers (they
            // find the channel closed) and is returned once they stopped.
            for pending in pending_rx {
                let key = acknowledged(runtime, pending?)?;
                writeln!(state, "{key}").map_err(state_error)?;
                unsynced += 1;
                if unsynced >= SYNC_EVERY {
                    state.sync_data().map_err(state_error)?;
                    unsynced = 0;
                }
            }
            state.sync_data().map_err(state_error)
        })?;
        Ok(reader.counts.summary())
    }
}

/// What the reader threads share: the inputs, taken one at a time.
struct Reader<'a> {
    source: FilesSource,
    inputs: &'a [Input],
    next: AtomicUsize,
    done: &'a HashSet<String>,
    backfill: &'a Backfill<'a>,
    runtime: &'a tokio::runtime::Handle,
    permits: Arc<Semaphore>,
    counts: Counts,
}

#[derive(Debug, Default)]
struct Counts {
    inputs: AtomicU64,
    skipped: AtomicU64,
    reports: AtomicU64,
    rejected: AtomicU64,
}

impl Counts {
    fn summary(&self) -> BackfillSummary {
        BackfillSummary {
            inputs: self.inputs.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            reports: self.reports.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

/// A message on its way to the broker.
type Send = tokio::task::JoinHandle<Result<(), BusError>>;

/// An input whose messages are on their way: its state key and sends.
type Pending<'i> = (&'i Input, String, Vec<Send>);

impl<'a> Reader<'a> {
    /// Takes inputs until none is left or the acknowledger has gone.
    fn read_all(&self, pending: &std::sync::mpsc::SyncSender<Result<Pending<'a>, BackfillError>>) {
        loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(input) = self.inputs.get(n) else {
                return;
            };
            (self.backfill.progress)();
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
    fn read(&self, input: &Input) -> Result<Vec<Send>, BackfillError> {
        let received_at = crate::received_now();
        let mut sends = Vec::new();
        // The input's bytes for dead letters and the archive, read at most once.
        let mut raw: Option<Arc<Vec<u8>>> = None;
        self.source
            .read(input, received_at, |found| -> Result<(), BackfillError> {
                let publisher = self.backfill.publisher.clone();
                let permit = self
                    .runtime
                    .block_on(self.permits.clone().acquire_owned())
                    .map_err(|_| BackfillError::Closed)?;
                match found {
                    Found::Report(mut report) => {
                        self.counts.reports.fetch_add(1, Ordering::Relaxed);
                        if let Some(enricher) = self.backfill.enricher {
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
                        let privacy = self.backfill.privacy.clone();
                        sends.push(self.runtime.spawn(async move {
                            let _permit = permit;
                            let copy = privacy.raw_copy(&raw);
                            publisher.dead_letter(&copy, &rejected, received_at).await
                        }));
                    }
                }
                Ok(())
            })?;
        if self.backfill.archive_raw {
            let raw = read_once(&mut raw, input).map_err(|source| BackfillError::Io {
                path: input.path.clone(),
                source,
            })?;
            let origin = input.path.display().to_string();
            let publisher = self.backfill.publisher.clone();
            let privacy = self.backfill.privacy.clone();
            sends.push(
                self.runtime.spawn(async move {
                    publisher.archive(&privacy.raw_copy(&raw), &origin).await
                }),
            );
        }
        Ok(sends)
    }
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

/// Waits for every message of an input (in input order): the input's
/// state key, to record it as done.
fn acknowledged(
    runtime: &tokio::runtime::Runtime,
    (input, key, sends): Pending<'_>,
) -> Result<String, BackfillError> {
    for send in sends {
        runtime
            .block_on(send)
            .map_err(|e| BackfillError::Task(e.to_string()))?
            .map_err(|source| BackfillError::Publish {
                path: input.path.clone(),
                source,
            })?;
    }
    Ok(key)
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

fn load_state(path: &Path) -> std::io::Result<HashSet<String>> {
    match File::open(path) {
        Ok(f) => BufReader::new(f).lines().collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_is_read_as_lines_and_may_be_missing() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state");
        assert!(load_state(&path).is_ok_and(|s| s.is_empty()));
        std::fs::write(&path, "a\t1\t2\nb\t3\t4\n").unwrap_or_else(|e| panic!("{e}"));
        let done = load_state(&path).unwrap_or_default();
        assert!(done.contains("a\t1\t2") && done.contains("b\t3\t4"));
        let input = Input {
            path: path.clone(),
            size: 14,
            kind: super::super::InputKind::Single,
        };
        let key = state_key(&input);
        assert!(
            key.starts_with(&format!("{}\t14\t", path.display())),
            "{key}"
        );
    }
}
