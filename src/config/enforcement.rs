//! `[enforcement]` and `[domains."<domain>"]`: how much of their own mail
//! an owner accepts to lose to the next policy step, and the senders they
//! approve per domain (`dmarcflow_enforce`).
//!
//! Environment: `DMARCFLOW_ENFORCEMENT_MAX_LOST_SHARE` (a fraction: 0.001
//! is 0.1%), `DMARCFLOW_ENFORCEMENT_MTA_STS_CLEAN_DAYS` and
//! `DMARCFLOW_ENFORCEMENT_MTA_STS_MIN_SESSIONS` (when an MTA-STS policy in
//! testing is ready to enforce), and `DMARCFLOW_APPROVED_SENDERS`, which replaces the file's
//! lists for the domains it names: `example.com=Google,SendGrid;example.org=Mailchimp`.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use dmarcflow_enforce::EnforcementConfig;
use serde::Deserialize;

use super::value::number;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforcementSection {
    /// The largest share of a domain's messages that may be its own mail
    /// failing DMARC for the domain to be ready (default 0.001).
    pub max_lost_share: Option<f64>,
    /// MTA-STS: days without a TLS failure before `testing` may become
    /// `enforce` (default 14) ...
    pub mta_sts_clean_days: Option<u32>,
    /// ... over at least this many reported sessions (default 1000).
    pub mta_sts_min_sessions: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSection {
    /// The senders the owner approves for the domain (catalogue names, or
    /// the names `report --by sender` shows).
    #[serde(default)]
    pub approved_senders: Vec<String>,
}

pub fn enforcement(
    section: Option<EnforcementSection>,
    domains: BTreeMap<String, DomainSection>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<EnforcementConfig> {
    let mut config = EnforcementConfig::default();
    let name = "DMARCFLOW_ENFORCEMENT_MAX_LOST_SHARE";
    let (clean_days, min_sessions) = section.as_ref().map_or((None, None), |s| {
        (s.mta_sts_clean_days, s.mta_sts_min_sessions)
    });
    if let Some(days) = number(env, "DMARCFLOW_ENFORCEMENT_MTA_STS_CLEAN_DAYS", clean_days)? {
        if days == 0 {
            bail!("enforcement.mta_sts_clean_days: at least 1");
        }
        config.mta_sts_clean_days = days;
    }
    if let Some(n) = number(
        env,
        "DMARCFLOW_ENFORCEMENT_MTA_STS_MIN_SESSIONS",
        min_sessions,
    )? {
        config.mta_sts_min_sessions = n;
    }
    if let Some(share) = number(env, name, section.and_then(|s| s.max_lost_share))? {
        if !(0.0..=1.0).contains(&share) {
            bail!("{name} (or enforcement.max_lost_share) = {share}: a fraction from 0 to 1");
        }
        config.max_lost_share = share;
    }
    for (domain, section) in domains {
        config
            .approved_senders
            .insert(domain.trim().to_ascii_lowercase(), section.approved_senders);
    }
    if let Some(text) = env("DMARCFLOW_APPROVED_SENDERS") {
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((domain, senders)) = part.split_once('=') else {
                bail!("DMARCFLOW_APPROVED_SENDERS: {part:?} is not domain=Sender,Sender");
            };
            let senders = senders
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            config
                .approved_senders
                .insert(domain.trim().to_ascii_lowercase(), senders);
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() -> Result<()> {
        let mut domains = BTreeMap::new();
        domains.insert(
            "Example.com".to_owned(),
            DomainSection {
                approved_senders: vec!["Google".into()],
            },
        );
        let section = EnforcementSection {
            max_lost_share: Some(0.01),
            mta_sts_clean_days: Some(7),
            mta_sts_min_sessions: None,
        };
        let env = |name: &str| match name {
            "DMARCFLOW_APPROVED_SENDERS" => Some("example.org=SendGrid, Mailchimp".to_owned()),
            "DMARCFLOW_ENFORCEMENT_MTA_STS_MIN_SESSIONS" => Some("50".to_owned()),
            _ => None,
        };
        let config = enforcement(Some(section), domains, &env)?;
        assert_eq!(config.max_lost_share, 0.01);
        assert_eq!(
            (config.mta_sts_clean_days, config.mta_sts_min_sessions),
            (7, 50)
        );
        assert!(config.approves("example.com", "google"));
        assert!(config.approves("EXAMPLE.ORG", "Mailchimp"));
        assert!(!config.approves("example.org", "Google"));
        let bad =
            |name: &str| (name == "DMARCFLOW_ENFORCEMENT_MAX_LOST_SHARE").then(|| "5".to_owned());
        assert!(enforcement(None, BTreeMap::new(), &bad).is_err());
        Ok(())
    }
}
