//! The sink benchmark: rows/s into ClickHouse through the dmarcflow sink
//! (batching, per-batch dedup, retries) next to a bare `clickhouse` crate
//! insert of the same rows in the same run, and the SQLite store's rows/s.
//!
//!   cargo run --release -p dmarcflow-benches --bin sink-bench -- [EMAILS] [ROUNDS]
//!
//! Needs a ClickHouse at $DMARCFLOW_CLICKHOUSE_URL (default
//! http://127.0.0.1:8123; `.ci/clickhouse.sh` starts one). Each round
//! starts from an empty, freshly migrated database `dmarcflow_bench`.
//! Prints a Markdown table (median of the rounds) for docs/benchmarks.md.

use std::time::Instant;

use dmarcflow_parse::{Item, Parser};
use dmarcflow_schemas::{Ingested, Report};
use dmarcflow_store::clickhouse::encoder::{aggregate_record, aggregate_report, Meta};
use dmarcflow_store::clickhouse::{connect, migrate, ClickHouseConfig, ClickHouseSink};
use dmarcflow_store::sqlite::SqliteStore;
use dmarcflow_testkit::Generator;

const BATCH_REPORTS: usize = 2000;

fn reports(emails: usize) -> Vec<Ingested<'static>> {
    let parser = Parser::default();
    let mut out = Vec::new();
    for (n, email) in Generator::new(11).emails(emails).iter().enumerate() {
        for item in parser.extract(email, "bench").into_iter().flatten() {
            if let Item::Payload(p) = item {
                if let Ok(report) = parser.parse_payload(&p) {
                    out.push(Ingested {
                        report: report.into_owned(),
                        origin: format!("bench #{n}"),
                        received_at: 1_700_000_000,
                        reporter: None,
                    });
                }
            }
        }
    }
    out
}

async fn fresh(config: &ClickHouseConfig) -> Result<(), Box<dyn std::error::Error>> {
    let (server, version) = connect(config).await?;
    server
        .query(&format!("DROP DATABASE IF EXISTS {}", config.database))
        .execute()
        .await?;
    migrate(&server, &config.database, version, None).await?;
    Ok(())
}

/// The same rows, straight through the `clickhouse` crate: one insert per
/// table per batch, no dedup, no retry.
async fn bare(
    config: &ClickHouseConfig,
    batches: &[&[Ingested<'static>]],
) -> Result<u64, Box<dyn std::error::Error>> {
    let (server, _) = connect(config).await?;
    let client = server.with_database(&config.database);
    let mut rows = 0;
    for batch in batches {
        let aggregates: Vec<_> = batch
            .iter()
            .filter_map(|i| match &i.report {
                Report::Aggregate(r) => Some((r, i)),
                _ => None,
            })
            .collect();
        let mut insert = client
            .insert::<dmarcflow_store::clickhouse::encoder::AggregateRecordRow<'static>>(
                "aggregate_records",
            )
            .await?;
        for (r, _) in &aggregates {
            for (k, rec) in r.records.iter().enumerate() {
                insert.write(&aggregate_record(r, k as u64, rec)).await?;
                rows += 1;
            }
        }
        insert.end().await?;
        let mut insert = client
            .insert::<dmarcflow_store::clickhouse::encoder::AggregateReportRow<'static>>(
                "aggregate_reports",
            )
            .await?;
        for (r, i) in &aggregates {
            let meta = Meta {
                origin: &i.origin,
                ingested_at: i.received_at,
                reporter: i.reporter.as_ref(),
            };
            insert.write(&aggregate_report(r, meta)).await?;
            rows += 1;
        }
        insert.end().await?;
    }
    Ok(rows)
}

/// Waits until the server has no merges running (at most 60 s).
async fn settle(config: &ClickHouseConfig) -> Result<(), Box<dyn std::error::Error>> {
    let (server, _) = connect(config).await?;
    for _ in 0..600 {
        let running: u64 = server
            .query("SELECT count() FROM system.merges")
            .fetch_one()
            .await?;
        if running == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let emails: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(16_000);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    let url = std::env::var("DMARCFLOW_CLICKHOUSE_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:8123".into());
    let mut config = ClickHouseConfig::new(url);
    config.database = "dmarcflow_bench".into();

    let data = reports(emails);
    let batches: Vec<&[Ingested<'static>]> = data.chunks(BATCH_REPORTS).collect();
    let records: usize = data
        .iter()
        .map(|i| match &i.report {
            Report::Aggregate(r) => r.records.len(),
            _ => 0,
        })
        .sum();
    eprintln!(
        "{} reports, {records} records, batches of {BATCH_REPORTS} reports",
        data.len()
    );

    let (mut bare_rates, mut sink_rates, mut sqlite_rates, mut ratios) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        // Alternate which goes first, so neither always inherits the
        // other's background merges.
        let (mut bare_rate, mut sink_rate) = (0.0, 0.0);
        for phase in 0..2 {
            fresh(&config).await?;
            settle(&config).await?;
            if (phase + round) % 2 == 0 {
                let t = Instant::now();
                let rows = bare(&config, &batches).await?;
                bare_rate = rows as f64 / t.elapsed().as_secs_f64();
            } else {
                let sink = ClickHouseSink::connect(config.clone()).await?;
                let t = Instant::now();
                let mut rows = 0;
                for batch in &batches {
                    rows += sink.write(batch).await?.rows;
                }
                sink_rate = rows as f64 / t.elapsed().as_secs_f64();
            }
        }
        bare_rates.push(bare_rate);
        sink_rates.push(sink_rate);
        ratios.push(sink_rate / bare_rate);

        let dir = tempfile::tempdir()?;
        let mut sqlite = SqliteStore::open(&dir.path().join("bench.db"))?;
        let t = Instant::now();
        let mut rows = 0;
        for batch in &batches {
            rows += sqlite.write(batch)?.rows;
        }
        sqlite_rates.push(rows as f64 / t.elapsed().as_secs_f64());
        eprintln!(
            "round {round}: bare {bare_rate:.0} rows/s, sink {sink_rate:.0} rows/s ({:.2}), sqlite {:.0} rows/s",
            sink_rate / bare_rate,
            sqlite_rates[round - 1]
        );
    }
    let (bare, sink, sqlite) = (median(bare_rates), median(sink_rates), median(sqlite_rates));
    println!(
        "| store ({} reports, {records} records, batches of {BATCH_REPORTS} reports, median of {rounds} rounds) | rows/s | vs bare insert |",
        data.len()
    );
    println!("|---|---|---|");
    println!("| bare `clickhouse` crate insert of the same rows | {bare:.0} | 1.00 |");
    println!(
        "| dmarcflow ClickHouse sink (dedup checks, retries) | {sink:.0} | {:.2} (median of per-round ratios) |",
        median(ratios)
    );
    println!(
        "| dmarcflow SQLite store (one transaction per batch) | {sqlite:.0} | {:.2} |",
        sqlite / bare
    );
    Ok(())
}
