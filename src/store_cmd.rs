//! `dmarcflow migrate`, `dmarcflow report` and `dmarcflow query`: the
//! configured store, asked directly.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use dmarcflow_ingest::received_now as unix_now;
use dmarcflow_store::clickhouse::{self, connect};
use dmarcflow_store::summary::{day as day_of, Scope, View};
use dmarcflow_store::{Store, StoreConfig};

use crate::config::Config;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The policy domain.
    #[arg(long)]
    pub domain: String,
    /// First day, YYYY-MM-DD (default 30 days ago).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default today).
    #[arg(long)]
    pub to: Option<String>,
    /// The views, comma-separated: result, source, host, sender, network,
    /// country, reporter, tls-result, tls-source (default: all of them, in
    /// that order).
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// text (the path to enforcement, then the views as tables), json (the
    /// whole report as one object: `enforcement`, then `by` each view), html
    /// (one self-contained file: the path to enforcement, a chart, the
    /// tables, the alerts of the period) or pdf.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Write here instead of to stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn migrate(config: &Config) -> Result<()> {
    match &config.store {
        StoreConfig::Sqlite { path } => {
            // Opening an SQLite store migrates it.
            dmarcflow_store::sqlite::SqliteStore::open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            println!("{}: migrated", path.display());
        }
        StoreConfig::ClickHouse(c) => {
            let (report, retention) = runtime()?.block_on(async {
                let (server, version) = connect(c).await?;
                let report =
                    clickhouse::migrate(&server, &c.database, version, c.cluster.as_deref())
                        .await?;
                let client = server.with_database(&c.database);
                let retention =
                    clickhouse::retention::apply(&client, version, c.retention_days).await?;
                Ok::<_, dmarcflow_store::StoreError>((report, retention))
            })?;
            match retention {
                clickhouse::retention::Retention::Off => {}
                clickhouse::retention::Retention::Applied { days } => {
                    println!("retention: {days} days on every table")
                }
                clickhouse::retention::Retention::Unsupported => {
                    eprintln!("retention not applied: this server has no TTL (19.6+)")
                }
            }
            for name in &report.applied {
                println!("applied {name}");
            }
            for name in &report.skipped {
                println!("skipped {name} (needs a newer server)");
            }
            println!(
                "{} database {}: {} applied, {} already applied",
                c.url,
                c.database,
                report.applied.len(),
                report.already.len()
            );
        }
    }
    Ok(())
}

pub fn query(config: &Config, sql: &str) -> Result<()> {
    let rt = runtime()?;
    let table = rt.block_on(async {
        let store = Store::open(&config.store).await?;
        store.query(sql).await
    })?;
    emit(&table.to_tsv())
}

pub fn report(config: &Config, args: &ReportArgs) -> Result<()> {
    let to = args.to.clone().unwrap_or_else(|| day_of(unix_now()));
    let from = args
        .from
        .clone()
        .unwrap_or_else(|| day_of(unix_now() - 30 * 86_400));
    let scope = Scope::new(&args.domain, &from, &to).map_err(anyhow::Error::msg)?;
    let catalogue = &config.catalogue;
    if matches!(args.format.as_str(), "html" | "pdf") {
        return digest(config, args, &scope, catalogue);
    }
    let views = views(&args.by)?;
    let rt = runtime()?;
    let (assessment, sts, mut tables) = rt.block_on(async {
        let store = Store::open(&config.store).await?;
        let assessment =
            dmarcflow_enforce::assess(&store, &scope, &config.enforcement, catalogue).await?;
        let sts = dmarcflow_enforce::mta_sts::assess(&store, &scope, &config.enforcement).await?;
        let backend = store.backend();
        let mut tables = Vec::new();
        for view in &views {
            tables.push(store.query(&view.sql(backend, &scope)).await?);
        }
        Ok::<_, dmarcflow_store::StoreError>((assessment, sts, tables))
    })?;
    for (view, table) in views.iter().zip(tables.iter_mut()) {
        if *view == View::Sender {
            with_classes(table, &assessment);
        }
    }
    match args.format.as_str() {
        "text" => {
            let mut out = format!("{} from {} to {}\n\n", scope.domain, scope.from, scope.to);
            out.push_str(&dmarcflow_enforce::text::text(&assessment));
            out.push_str(&format!("\n{}\n", sts.summary()));
            for (view, table) in views.iter().zip(&tables) {
                out.push_str(&format!("\nBy {}\n{}", view.name(), table.to_aligned()));
            }
            emit(&out)
        }
        "json" => {
            let by: serde_json::Map<String, serde_json::Value> = views
                .iter()
                .zip(&tables)
                .map(|(view, t)| {
                    let value = serde_json::json!({"columns": t.columns, "rows": t.rows});
                    (view.name().to_owned(), value)
                })
                .collect();
            let report = serde_json::json!({
                "domain": scope.domain,
                "from": scope.from,
                "to": scope.to,
                "enforcement": assessment,
                "mta_sts": sts,
                "by": by,
            });
            emit(&format!("{}\n", serde_json::to_string_pretty(&report)?))
        }
        other => anyhow::bail!("--format {other}: text, json, html or pdf"),
    }
}

/// The views `--by` names (all of them without it).
fn views(by: &[String]) -> Result<Vec<View>> {
    if by.is_empty() {
        return Ok(View::ALL.to_vec());
    }
    by.iter()
        .map(|name| {
            View::parse(name.trim()).ok_or_else(|| {
                anyhow::anyhow!(
                    "--by {name}: not a view (result, source, host, sender, network, country, reporter, tls-result, tls-source)"
                )
            })
        })
        .collect()
}

/// The sender view with each sender's classes (`aligned, misaligned`);
/// the `(unknown)` row gathers those of every sender the store has no
/// name for.
fn with_classes(table: &mut dmarcflow_store::Table, a: &dmarcflow_enforce::Assessment) {
    let named: std::collections::BTreeSet<String> = table
        .rows
        .iter()
        .filter_map(|r| r.first().cloned())
        .collect();
    table.columns.push("class".to_owned());
    for row in &mut table.rows {
        let name = row.first().cloned().unwrap_or_default();
        // `(unknown)`: the store has no name for them (some the catalogue
        // names from their DKIM or bounce domains).
        let unnamed = name == "(unknown)";
        let mut classes: Vec<&str> = a
            .senders
            .iter()
            .filter(|s| s.sender == name || (unnamed && !named.contains(&s.sender)))
            .map(|s| s.class.as_str())
            .collect();
        classes.sort_unstable();
        classes.dedup();
        row.push(classes.join(", "));
    }
}

/// `report --format html|pdf`: the digest, to `--out` or stdout.
fn digest(
    config: &Config,
    args: &ReportArgs,
    scope: &Scope,
    catalogue: &dmarcflow_senders::SenderMap,
) -> Result<()> {
    let rt = runtime()?;
    let owner = dmarcflow_digest::Owner {
        enforcement: &config.enforcement,
        catalogue,
    };
    let digest = rt.block_on(async {
        let store = Store::open(&config.store).await?;
        dmarcflow_digest::gather(&store, scope, owner).await
    })?;
    let bytes = match args.format.as_str() {
        "html" => dmarcflow_digest::html::render(&digest).into_bytes(),
        _ => dmarcflow_digest::pdf::render(&digest),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            Ok(out.flush()?)
        }
    }
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
