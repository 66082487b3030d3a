//! The policies to serve now: each configured domain's mode (the store's
//! over the configuration) and MX patterns (configured, else the domain's
//! MX hosts as the DNS gives them now).
//!
//! A domain whose MX lookup fails keeps the policy it had (senders cache a
//! policy for `max_age`: a resolver's hiccup must not change it), or is
//! not served at all until a lookup succeeds: a policy with no MX
//! patterns would tell senders to deliver nowhere.

use std::collections::BTreeMap;

use dmarcflow_posture::dns::{Dns, Lookup};

use super::{Mode, MtaStsConfig, Policy};

/// One domain's policy as served, and the MX hosts it was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub domain: String,
    pub policy: Policy,
    /// The domain's MX hosts at the last lookup (empty: not looked up).
    pub mx_hosts: Vec<String>,
}

/// The MX hosts of `domain`, by preference.
pub async fn mx_hosts(dns: &impl Dns, domain: &str) -> Result<Vec<String>, String> {
    match dns.mx(domain).await {
        Lookup::Found(mut found) => {
            found.sort();
            Ok(found
                .into_iter()
                .map(|(_, host)| host.to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect())
        }
        Lookup::Absent => Ok(Vec::new()),
        Lookup::Failed(why) => Err(why),
    }
}

/// Every configured domain's policy now; `previous` is what was served.
pub async fn compute(
    config: &MtaStsConfig,
    modes: &BTreeMap<String, Mode>,
    dns: &impl Dns,
    previous: &BTreeMap<String, Served>,
) -> BTreeMap<String, Served> {
    let mut out = BTreeMap::new();
    for (domain, configured) in &config.domains {
        let mode = modes.get(domain).copied().unwrap_or(configured.mode);
        let looked_up = mx_hosts(dns, domain).await;
        let patterns = if configured.mx.is_empty() {
            match &looked_up {
                Ok(hosts) if !hosts.is_empty() => hosts.clone(),
                _ => {
                    if let Some(before) = previous.get(domain) {
                        out.insert(domain.clone(), before.clone());
                    }
                    continue;
                }
            }
        } else {
            configured.mx.clone()
        };
        out.insert(
            domain.clone(),
            Served {
                domain: domain.clone(),
                policy: Policy {
                    mode,
                    mx: patterns,
                    max_age: configured.max_age,
                },
                mx_hosts: looked_up.unwrap_or_default(),
            },
        );
    }
    out
}
