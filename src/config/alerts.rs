//! `[alerts]`: the rules' period, thresholds (per domain too), quiet period
//! and webhooks (`dmarcflow_alerts`). `DMARCFLOW_ALERTS_WEBHOOKS` adds
//! webhooks, comma-separated, a `slack:` prefix for Slack-compatible text.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use dmarcflow_alerts::{AlertsConfig, Email, Thresholds, Webhook, WebhookFormat};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSection {
    /// Days evaluated, ending with the evaluation day (default 1).
    pub window_days: Option<u32>,
    /// Days before them that make the baseline (default 14).
    pub baseline_days: Option<u32>,
    /// Minutes a condition stays quiet after a notification (default 360).
    pub quiet_period_minutes: Option<u64>,
    /// The thresholds for every domain.
    #[serde(default)]
    pub thresholds: Option<Thresholds>,
    /// Per policy domain, replacing the thresholds above.
    #[serde(default)]
    pub domains: BTreeMap<String, Thresholds>,
    #[serde(default)]
    pub webhook: Vec<Webhook>,
    /// Mail notifications through an SMTP relay (`relay`, `from`, `to`,
    /// `tls`, `user`; the password from DMARCFLOW_ALERTS_SMTP_PASSWORD).
    pub email: Option<Email>,
    /// Minutes between evaluations inside `run` and `sink` (absent: only
    /// `dmarcflow alerts`). DMARCFLOW_ALERTS_INTERVAL_MINUTES.
    pub interval_minutes: Option<u64>,
}

pub fn alerts(
    section: Option<AlertsSection>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<AlertsConfig>> {
    let from_env: Vec<Webhook> = env("DMARCFLOW_ALERTS_WEBHOOKS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix("slack:") {
            Some(url) => Webhook {
                url: url.to_owned(),
                format: WebhookFormat::Slack,
            },
            None => Webhook {
                url: s.to_owned(),
                format: WebhookFormat::Json,
            },
        })
        .collect();
    let interval = match env("DMARCFLOW_ALERTS_INTERVAL_MINUTES") {
        Some(v) => Some(
            v.trim()
                .parse::<u64>()
                .map_err(|e| anyhow::anyhow!("DMARCFLOW_ALERTS_INTERVAL_MINUTES: {e}"))?,
        ),
        None => section.as_ref().and_then(|s| s.interval_minutes),
    };
    if section.is_none() && from_env.is_empty() && interval.is_none() {
        return Ok(None);
    }
    let section = section.unwrap_or_default();
    let defaults = AlertsConfig::default();
    let mut webhooks = section.webhook;
    webhooks.extend(from_env);
    for w in &webhooks {
        if !w.url.starts_with("http://") && !w.url.starts_with("https://") {
            anyhow::bail!("alerts.webhook: {:?} is not an http(s) URL", w.url);
        }
    }
    let email = section.email.map(|mut e| {
        e.password = env("DMARCFLOW_ALERTS_SMTP_PASSWORD");
        e
    });
    Ok(Some(AlertsConfig {
        window_days: section.window_days.unwrap_or(defaults.window_days),
        baseline_days: section.baseline_days.unwrap_or(defaults.baseline_days),
        quiet_period: section
            .quiet_period_minutes
            .map_or(defaults.quiet_period, |m| Duration::from_secs(m * 60)),
        defaults: section.thresholds.unwrap_or_default(),
        domains: section.domains,
        webhooks,
        email,
        interval: interval
            .filter(|m| *m > 0)
            .map(|m| Duration::from_secs(m * 60)),
        // Set by the configuration's resolution from [enforcement] and
        // [enrich] senders.
        ..defaults
    }))
}
