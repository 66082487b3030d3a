//! `dmarcflow run PATH...`: the whole pipeline in one process. The files
//! source parses on its own thread and publishes to the in-process bus; the
//! configured store (SQLite by default) consumes the bus in batches.
//! Rejected inputs go to stderr (or `--rejects`) as JSON lines; a summary
//! closes the run.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use dmarcflow_bus::in_process;
use dmarcflow_ingest::files::{discover, FilesSource, Found};
use dmarcflow_parse::{Limits, Parser};
use dmarcflow_store::{Store, StoreConfig, WriteSummary};

use crate::config::Config;
use crate::report_writer::{write_reject, RejectLine};

#[derive(clap::Args)]
pub struct RunArgs {
    /// Files or directories (walked recursively). Without any, the network
    /// sources of the configuration ([smtp], [http], [imap]) run.
    pub paths: Vec<PathBuf>,
    /// Write rejected inputs here (JSON lines) instead of to stderr; as a
    /// service without Kafka, the dead-letter file (default
    /// ./dmarcflow-dead-letters.jsonl, with the raw bytes).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// The SQLite file (overrides the configuration).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub inputs: u64,
    pub found: u64,
    pub rejected: u64,
    pub stored: WriteSummary,
}

pub fn run(args: &RunArgs, config: &Config) -> Result<RunSummary> {
    // [privacy] first: a bad key stops the run before anything is read.
    let privacy = crate::privacy_cmd::open(config)?;
    let started = Instant::now();
    let inputs = discover(&args.paths)?;
    let mut rejects: Box<dyn Write + Send> = match &args.rejects {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(io::stderr()),
    };
    let source = FilesSource {
        parser: Parser::new(Limits::default()),
        privacy,
        ..FilesSource::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut store = runtime.block_on(Store::open(&config.store))?;
    let (publisher, subscriber) = in_process(256);
    let received_at = dmarcflow_ingest::received_now();

    let enrich = config.enrich.clone();
    let producer = std::thread::spawn(move || -> Result<(u64, u64, u64)> {
        // With [enrich], reports go through the enrichment stage, which
        // publishes them.
        let (stage, publisher) = match enrich.as_ref() {
            Some(config) => {
                let enrichment = crate::enrichment::Enrichment::open(config)?;
                (Some(enrichment.stage(publisher)), None)
            }
            None => (None, Some(publisher)),
        };
        let (mut found, mut rejected) = (0u64, 0u64);
        for input in &inputs {
            source.read(input, received_at, |item| -> Result<()> {
                match item {
                    Found::Report(report) => {
                        found += 1;
                        match (&stage, &publisher) {
                            (Some(stage), _) => stage.send(report),
                            (None, Some(p)) => p.publish(report).map_err(|e| anyhow!(e)),
                            (None, None) => Err(anyhow!("no publisher")),
                        }
                    }
                    Found::Rejected(r) => {
                        rejected += 1;
                        let line = RejectLine {
                            path: &r.path,
                            origin: &r.origin,
                            reason: r.reason,
                            error: r.error,
                        };
                        write_reject(&mut rejects, &line)
                    }
                }
            })?;
        }
        rejects.flush()?;
        if let Some(stage) = stage {
            stage.finish()?;
        }
        drop(publisher);
        Ok((inputs.len() as u64, found, rejected))
    });
    let stored = runtime.block_on(store.consume(subscriber, config.batch));
    let produced = producer
        .join()
        .map_err(|_| anyhow!("the parsing thread panicked"))?;
    let stored = stored?;
    let (inputs, found, rejected) = produced?;
    let summary = RunSummary {
        inputs,
        found,
        rejected,
        stored,
    };
    let seconds = started.elapsed().as_secs_f64();
    let target = match &config.store {
        StoreConfig::Sqlite { path } => path.display().to_string(),
        StoreConfig::ClickHouse(c) => format!("{} (database {})", c.url, c.database),
    };
    eprintln!(
        "{} inputs, {} reports found ({} stored, {} already stored), {} rejected, {} rows into {target} in {seconds:.1} s ({:.0} reports/s)",
        summary.inputs,
        summary.found,
        summary.stored.reports,
        summary.stored.duplicates,
        summary.rejected,
        summary.stored.rows,
        summary.found as f64 / seconds.max(1e-9),
    );
    Ok(summary)
}
