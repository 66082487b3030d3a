//! `[posture]`: the watch of every domain's published records inside `run`
//! and `sink` (`dmarcflow_watch`), and the bounds `dmarcflow check` uses
//! too. Absent (and no `DMARCFLOW_POSTURE_INTERVAL_HOURS`): no watch, as
//! it reaches out to the DNS, the web and MX hosts.
//! `DMARCFLOW_POSTURE_DOMAINS` and `DMARCFLOW_POSTURE_DKIM_SELECTORS`
//! (comma-separated) add to the lists.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dmarcflow_watch::WatchConfig;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostureSection {
    /// Hours between two rounds (default 24; fractions allowed).
    pub interval_hours: Option<f64>,
    /// Checked besides the domains in reports.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Checked for every domain besides the selectors reports show.
    #[serde(default)]
    pub dkim_selectors: Vec<String>,
    /// How far back reports name domains and selectors (default 30).
    pub report_days: Option<u32>,
    /// Domains checked at once (default 16).
    pub concurrency: Option<usize>,
    /// Each lookup's, fetch's and MX probe's bound (default 5000).
    pub timeout_ms: Option<u64>,
    /// Probe each MX host's STARTTLS on port 25 (default true; off where
    /// port 25 is blocked).
    pub starttls: Option<bool>,
    /// The name given in EHLO to MX hosts.
    pub helo: Option<String>,
    /// PEM certificates trusted besides the web PKI (private zones).
    pub ca_file: Option<PathBuf>,
}

/// The watch and its probes' settings, resolved.
#[derive(Debug, Clone)]
pub struct Posture {
    pub watch: WatchConfig,
    pub timeout: Duration,
    pub starttls: bool,
    pub helo: String,
    pub ca_file: Option<PathBuf>,
}

pub const DEFAULT_HELO: &str = "posture-check.dmarcflow.invalid";

fn list(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn posture(
    section: Option<PostureSection>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Posture>> {
    let interval_env = env("DMARCFLOW_POSTURE_INTERVAL_HOURS");
    if section.is_none() && interval_env.is_none() {
        return Ok(None);
    }
    let section = section.unwrap_or_default();
    let hours = match interval_env {
        Some(v) => v
            .trim()
            .parse::<f64>()
            .with_context(|| format!("DMARCFLOW_POSTURE_INTERVAL_HOURS={v:?}"))?,
        None => section.interval_hours.unwrap_or(24.0),
    };
    // At least a second, at most a year: a round costs every domain's
    // lookups, and a zero interval would loop.
    if !(hours.is_finite() && (1.0 / 3600.0..=8784.0).contains(&hours)) {
        bail!("posture.interval_hours {hours}: from 1/3600 (a second) to 8784 (a year)");
    }
    let mut domains = section.domains;
    domains.extend(list(env("DMARCFLOW_POSTURE_DOMAINS")));
    let mut selectors = section.dkim_selectors;
    selectors.extend(list(env("DMARCFLOW_POSTURE_DKIM_SELECTORS")));
    let defaults = WatchConfig::default();
    Ok(Some(Posture {
        watch: WatchConfig {
            interval: Duration::from_secs_f64(hours * 3600.0),
            domains,
            dkim_selectors: selectors,
            report_days: section.report_days.unwrap_or(defaults.report_days),
            concurrency: section.concurrency.unwrap_or(defaults.concurrency).max(1),
        },
        timeout: Duration::from_millis(section.timeout_ms.unwrap_or(5000).max(1)),
        starttls: section.starttls.unwrap_or(true),
        helo: section.helo.unwrap_or_else(|| DEFAULT_HELO.to_owned()),
        ca_file: section.ca_file,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_is_off_and_the_environment_adds() {
        let none = |_: &str| None;
        assert!(posture(None, &none)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none());
        let env = |name: &str| match name {
            "DMARCFLOW_POSTURE_INTERVAL_HOURS" => Some("0.5".to_owned()),
            "DMARCFLOW_POSTURE_DOMAINS" => Some("a.example, b.example".to_owned()),
            _ => None,
        };
        let section = PostureSection {
            domains: vec!["c.example".into()],
            ..PostureSection::default()
        };
        let p = posture(Some(section), &env)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("configured"));
        assert_eq!(p.watch.interval, Duration::from_secs(1800));
        assert_eq!(p.watch.domains, ["c.example", "a.example", "b.example"]);
        assert!(p.starttls);
        let zero =
            |name: &str| (name == "DMARCFLOW_POSTURE_INTERVAL_HOURS").then(|| "0".to_owned());
        assert!(posture(None, &zero).is_err());
    }
}
