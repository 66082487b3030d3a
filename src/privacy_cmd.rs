//! `[privacy]` in the commands: opened where reports are ingested (`run`,
//! `ingest`), `dmarcflow privacy apply` for the failure reports stored
//! before a mode was set, and `dmarcflow ruf show` to read a sealed one.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use dmarcflow_privacy::{Identities, Mode, PersonalFields, Privacy};
use dmarcflow_store::{PersonalRow, Store};

use crate::config::Config;

/// Failure reports protected per round of `privacy apply`.
const ROUND: usize = 200;

/// The configured protection, every key and the secret read now; the mode
/// is logged (`clear` as a warning: it keeps other people's mail).
pub fn open(config: &Config) -> Result<Privacy> {
    let default_secret = crate::config::privacy::default_secret(&config.store);
    let privacy = Privacy::open(&config.privacy, &default_secret).context("[privacy]")?;
    match privacy.mode() {
        Mode::Clear => tracing::warn!(
            "[privacy] failure_reports = \"clear\": failure reports are kept as sent, other people's addresses, subjects and messages included"
        ),
        mode => tracing::info!(mode = mode.as_str(), "failure reports' personal fields protected"),
    }
    Ok(privacy)
}

#[derive(clap::Subcommand)]
pub enum PrivacyCommand {
    /// Protect the failure reports stored before the mode was set (both
    /// stores; idempotent): seal or redact every one still in clear.
    Apply,
}

#[derive(clap::Subcommand)]
pub enum RufCommand {
    /// Open a sealed failure report: its personal fields as sent, as JSON.
    Show {
        /// The report's id (`report_id`).
        id: String,
        /// An age identity file (`age-keygen` output) of a recipient.
        #[arg(long)]
        identity: PathBuf,
    },
}

pub fn privacy(config: &Config, command: &PrivacyCommand) -> Result<()> {
    match command {
        PrivacyCommand::Apply => {
            let privacy = open(config)?;
            if privacy.mode() == Mode::Clear {
                bail!("[privacy] failure_reports is \"clear\": nothing to apply");
            }
            let changed = runtime()?.block_on(apply(config, &privacy))?;
            println!(
                "{changed} failure reports {}",
                match privacy.mode() {
                    Mode::Encrypt => "sealed",
                    _ => "redacted",
                }
            );
            Ok(())
        }
    }
}

/// Protects every clear failure report, a round at a time; the count.
async fn apply(config: &Config, privacy: &Privacy) -> Result<u64> {
    let mut store = Store::open(&config.store).await?;
    let mut changed = 0u64;
    loop {
        let rows = store.clear_failure_reports(ROUND).await?;
        if rows.is_empty() {
            store.forget_replaced().await?;
            return Ok(changed);
        }
        let mut protected = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut report = row.to_report();
            privacy
                .protect(&mut report)
                .with_context(|| format!("failure report {}", row.report_id))?;
            protected.push(PersonalRow::from_report(&report));
        }
        store.replace_personal(&protected).await?;
        changed += rows.len() as u64;
    }
}

pub fn ruf(config: &Config, command: &RufCommand) -> Result<()> {
    match command {
        RufCommand::Show { id, identity } => {
            let identities = Identities::from_file(identity)?;
            let row = runtime()?.block_on(async {
                let store = Store::open(&config.store).await?;
                anyhow::Ok(store.failure_report_personal(id).await?)
            })?;
            let Some(row) = row else {
                bail!("no failure report {id:?} in the store");
            };
            if row.sealed.is_empty() {
                bail!(
                    "failure report {id} is {}: nothing sealed to open",
                    row.personal.as_str()
                );
            }
            let plain = identities.open(row.sealed.as_bytes())?;
            let fields = PersonalFields::from_json(&plain)
                .context("the sealed fields are not dmarcflow's JSON")?;
            println!("{}", serde_json::to_string_pretty(&fields)?);
            Ok(())
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
