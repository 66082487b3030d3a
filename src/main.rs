//! The `dmarcflow` command: wiring of the workspace crates, nothing more.

mod alerts_cmd;
mod allocator;
mod check_cmd;
mod clickhouse_sql_cmd;
mod config;
mod enrichment;
mod ingest_cmd;
mod metrics_endpoint;
mod mta_sts_cmd;
mod parse_cmd;
mod privacy_cmd;
mod report_writer;
mod reports_cmd;
mod run_cmd;
mod run_service;
mod shutdown;
mod sink_cmd;
mod sources;
mod store_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use alerts_cmd::AlertsArgs;
use check_cmd::CheckArgs;
use ingest_cmd::IngestArgs;
use parse_cmd::ParseArgs;
use reports_cmd::ReportsArgs;
use run_cmd::RunArgs;
use sink_cmd::SinkArgs;
use store_cmd::ReportArgs;

#[derive(Parser)]
#[command(
    name = "dmarcflow",
    version,
    about = "DMARC aggregate, DMARC failure and SMTP TLS report pipeline"
)]
struct Cli {
    /// Configuration file (TOML); default $DMARCFLOW_CONFIG, then
    /// ./dmarcflow.toml if present. DMARCFLOW_* variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Log lines as JSON objects (for log shippers) instead of text. The
    /// level comes from RUST_LOG (default: info).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse files, directories, maildirs and mbox files; write one
    /// normalised JSON report per line to stdout.
    Parse(ParseArgs),
    /// Parse files, directories, maildirs and mbox files and store the
    /// reports (the embedded SQLite store ./dmarcflow.db unless ClickHouse
    /// is configured); print a summary. Without paths: run the configured
    /// network sources and the store in one process (through Kafka when
    /// it is configured) until SIGINT or SIGTERM.
    Run(RunArgs),
    /// Parse files, directories, maildirs and mbox files into Kafka
    /// (reports to their topics, rejects to the dead-letter topic),
    /// remembering what was published.
    Ingest(IngestArgs),
    /// Consume the report topics into the configured store.
    Sink(SinkArgs),
    /// Create or update the store's tables (idempotent).
    Migrate,
    /// A domain's report for a date range: the views as tables, or a
    /// summary people read (HTML or PDF).
    Report(ReportArgs),
    /// Evaluate the alert rules once over the store ([alerts]): notify the
    /// webhooks of what fired and what resolved, print the transitions
    /// (for cron).
    Alerts(AlertsArgs),
    /// Mail the scheduled reports ([reports]) due today (or on --day) that
    /// were not sent yet, as attachments through [alerts.email] (for cron).
    Reports(ReportsArgs),
    /// Check each domain's published records (DMARC, SPF, DKIM, MTA-STS,
    /// TLS-RPT, BIMI, MX) and score them; exit status 2 when any finding is
    /// critical.
    Check(CheckArgs),
    /// Hosted MTA-STS ([mta_sts]): the records to publish, the mode.
    #[command(subcommand, name = "mta-sts")]
    MtaSts(mta_sts_cmd::MtaStsCommand),
    /// Failure reports' personal data ([privacy]).
    #[command(subcommand)]
    Privacy(privacy_cmd::PrivacyCommand),
    /// Failure reports (ruf): open a sealed one.
    #[command(subcommand)]
    Ruf(privacy_cmd::RufCommand),
    /// Run one SQL query against the store; tab-separated output.
    Query {
        /// The SQL.
        sql: String,
    },
    /// Every SQL statement dmarcflow sends to ClickHouse for the reports of
    /// PATHS, as JSON lines (for checking them on other server releases:
    /// .ci/chdb_check.py).
    #[command(hide = true)]
    ClickhouseSql { paths: Vec<PathBuf> },
}

/// Structured logs on stderr (`tracing`): text, or JSON with `--log-json`.
fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The outcome of a `check` with a critical finding (exit status 2, as an
/// error; any other count above 0 is exit status 1).
const CRITICAL_FINDINGS: u64 = u64::MAX;

fn main() -> ExitCode {
    allocator::return_freed_memory();
    let cli = Cli::parse();
    init_logs(cli.log_json);
    let outcome = match cli.command {
        Command::Parse(args) => config::load(cli.config.as_deref())
            .and_then(|c| parse_cmd::run(&args, c.enrich.as_ref()))
            .map(|s| s.rejected),
        Command::Run(args) => config::load(cli.config.as_deref())
            .map(|mut c| {
                if let Some(db) = &args.db {
                    c.store = dmarcflow_store::StoreConfig::Sqlite { path: db.clone() };
                }
                c
            })
            .and_then(|c| {
                if args.paths.is_empty() {
                    return run_service::serve(&args, &c).map(|()| 0);
                }
                run_cmd::run(&args, &c).map(|s| s.rejected)
            }),
        Command::Ingest(args) => config::load(cli.config.as_deref())
            .and_then(|c| {
                let kafka = c.kafka.clone().ok_or_else(|| {
                    anyhow::anyhow!(
                        "ingest needs Kafka: set DMARCFLOW_KAFKA_BROKERS or [kafka] brokers"
                    )
                })?;
                if args.paths.is_empty() {
                    return ingest_cmd::serve(&c, &kafka).map(|()| Default::default());
                }
                ingest_cmd::run(&args, &c, &kafka)
            })
            .map(|s| s.rejected),
        Command::Sink(args) => config::load(cli.config.as_deref())
            .and_then(|c| {
                let kafka = c.kafka.clone().ok_or_else(|| {
                    anyhow::anyhow!(
                        "sink needs Kafka: set DMARCFLOW_KAFKA_BROKERS or [kafka] brokers"
                    )
                })?;
                sink_cmd::run(&args, &c, &kafka)
            })
            .map(|_| 0),
        Command::Migrate => config::load(cli.config.as_deref())
            .and_then(|c| store_cmd::migrate(&c))
            .map(|_| 0),
        Command::Report(args) => config::load(cli.config.as_deref())
            .and_then(|c| store_cmd::report(&c, &args))
            .map(|_| 0),
        Command::Alerts(args) => config::load(cli.config.as_deref())
            .and_then(|c| alerts_cmd::run(&c, &args))
            .map(|_| 0),
        Command::Reports(args) => config::load(cli.config.as_deref())
            .and_then(|c| reports_cmd::run(&c, &args))
            .map(|_| 0),
        Command::Check(args) => config::load(cli.config.as_deref())
            .and_then(|c| check_cmd::run(&c, &args))
            .map(|critical| if critical { CRITICAL_FINDINGS } else { 0 }),
        Command::MtaSts(command) => config::load(cli.config.as_deref())
            .and_then(|c| mta_sts_cmd::run(&c, &command))
            .map(|()| 0),
        Command::Privacy(command) => config::load(cli.config.as_deref())
            .and_then(|c| privacy_cmd::privacy(&c, &command))
            .map(|()| 0),
        Command::Ruf(command) => config::load(cli.config.as_deref())
            .and_then(|c| privacy_cmd::ruf(&c, &command))
            .map(|()| 0),
        Command::Query { sql } => config::load(cli.config.as_deref())
            .and_then(|c| store_cmd::query(&c, &sql))
            .map(|_| 0),
        Command::ClickhouseSql { paths } => clickhouse_sql_cmd::run(&paths).map(|()| 0),
    };
    match outcome {
        Ok(0) => ExitCode::SUCCESS,
        Ok(CRITICAL_FINDINGS) => ExitCode::from(2),
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("dmarcflow: {}", causes(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes, each once: many errors print their source in
/// their own message too (`path: No such file`, `network error: client
/// error (Connect)`), so a cause already told is not repeated.
fn causes(e: &anyhow::Error) -> String {
    let mut told: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !text.is_empty() && !told.iter().any(|t| t.contains(&text)) {
            told.push(text);
        }
    }
    told.join(": ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_cause_is_told_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = anyhow::Error::new(io)
            .context("/x: No such file")
            .context("reading inputs");
        assert_eq!(super::causes(&e), "reading inputs: /x: No such file");
    }
}
