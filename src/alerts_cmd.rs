//! `dmarcflow alerts`: one round of the alert rules over the configured
//! store (`dmarcflow_alerts`), for cron; the transitions on stdout. And
//! the same on a schedule inside the `run` and `sink` services
//! (`[alerts] interval_minutes`).

use anyhow::{Context, Result};
use dmarcflow_ingest::received_now as unix_now;
use dmarcflow_store::summary::day;
use dmarcflow_store::Store;

use crate::config::Config;

#[derive(clap::Args)]
pub struct AlertsArgs {
    /// The last day of the evaluated window, YYYY-MM-DD (default today,
    /// UTC).
    #[arg(long)]
    pub day: Option<String>,
}

/// Evaluates the rules every `interval` until `stop` resolves; a round that
/// fails (the store or a webhook unreachable) is logged and tried again at
/// the next tick.
pub async fn schedule(config: &Config, stop: impl std::future::Future<Output = ()>) {
    let Some(alerts) = config.alerts.clone() else {
        return;
    };
    let Some(interval) = alerts.interval else {
        return;
    };
    tokio::pin!(stop);
    let mut store: Option<Store> = None;
    loop {
        if store.is_none() {
            match Store::open(&config.store).await {
                Ok(s) => store = Some(s),
                Err(e) => tracing::warn!(error = %e, "alerts: the store is not reachable"),
            }
        }
        if let Some(s) = store.as_mut() {
            let now = unix_now();
            let today = day(now);
            // A stop cuts a round short: its state is not written, so the
            // next start notifies again rather than never.
            let evaluated = tokio::select! {
                r = dmarcflow_alerts::evaluate(s, &alerts, &today, now) => r,
                () = &mut stop => return,
            };
            match evaluated {
                Ok(round) => {
                    for t in &round.transitions {
                        tracing::info!(status = t.status.as_str(), rule = %t.rule, notified = t.notified, "{}", t.message);
                    }
                    for u in &round.undelivered {
                        tracing::warn!(domain = %u.domain, error = %u.error, "alerts not delivered: sent again next round");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "alerts round failed"),
            }
            // The scheduled reports due today, once each ([reports]).
            match crate::reports_cmd::send_due(s, config, &today, now).await {
                Ok(sent) => {
                    for subject in sent {
                        tracing::info!(%subject, "report sent");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "scheduled reports failed"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = &mut stop => return,
        }
    }
}

pub fn run(config: &Config, args: &AlertsArgs) -> Result<()> {
    let alerts = config
        .alerts
        .clone()
        .context("no [alerts] configured (or DMARCFLOW_ALERTS_WEBHOOKS)")?;
    let mut now = unix_now();
    let today = args.day.clone().unwrap_or_else(|| day(now));
    // A past day is evaluated as of its end (what fired then, and when).
    let end = dmarcflow_alerts::rules::Period::new(&today, &alerts)?
        .window
        .1;
    now = now.min(end);
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
    for u in &round.undelivered {
        eprintln!("not delivered for {}: {}", u.domain, u.error);
    }
    if let Some(u) = round.undelivered.first() {
        anyhow::bail!(
            "{} deliveries failed (first, for {}: {}); the next round sends them again",
            round.undelivered.len(),
            u.domain,
            u.error
        );
    }
    Ok(())
}
