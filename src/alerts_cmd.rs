//! `dmarcflow alerts`: one round of the alert rules over the configured
//! store (`dmarcflow_alerts`), for cron; the transitions on stdout.

use anyhow::{Context, Result};
use dmarcflow_store::summary::day;
use dmarcflow_store::Store;

use crate::config::Config;
use crate::AlertsArgs;

pub fn run(config: &Config, args: &AlertsArgs) -> Result<()> {
    let alerts = config
        .alerts
        .clone()
        .context("no [alerts] configured (or DMARCFLOW_ALERTS_WEBHOOKS)")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let today = args.day.clone().unwrap_or_else(|| day(now));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let round = runtime.block_on(async {
        let mut store = Store::open(&config.store).await?;
        anyhow::Ok(dmarcflow_alerts::evaluate(&mut store, &alerts, &today, now).await?)
    })?;
    for t in &round.transitions {
        let quiet = if t.notified {
            ""
        } else {
            " (quiet period: not notified)"
        };
        println!("{}\t{}\t{}{quiet}", t.status.as_str(), t.rule, t.message);
    }
    eprintln!(
        "alerts for {today}: {} transitions, {} firing",
        round.transitions.len(),
        round.firing
    );
    Ok(())
}
