//! `[enrich]`: who each source address is (`dmarcflow_enrich`). On when the
//! section is present or any `DMARCFLOW_ENRICH_*` variable is set.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use dmarcflow_enrich::{EnrichConfig, Unauthenticated};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichSection {
    /// MMDB files (IPinfo Lite, GeoLite2 ASN/Country/City, DB-IP Lite).
    pub mmdb: Option<Vec<PathBuf>>,
    /// Reverse DNS (default true).
    pub dns: Option<bool>,
    /// `ip:port` of the resolvers (default: /etc/resolv.conf's).
    pub nameservers: Option<Vec<String>>,
    pub timeout_ms: Option<u64>,
    /// Sender entries of your own, over the project's map.
    pub senders: Option<PathBuf>,
    /// A `public_suffix_list.dat` to use instead of the compiled-in list.
    pub public_suffix_list: Option<PathBuf>,
    /// Verify report emails' DKIM signatures (default true; needs dns).
    pub verify_reports: Option<bool>,
    /// "store" (default: flagged) or "dead-letter" for a report whose
    /// email is not the reporter's own.
    pub unauthenticated: Option<String>,
}

pub fn enrich(
    section: Option<EnrichSection>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<EnrichConfig>> {
    const VARS: [&str; 7] = [
        "DMARCFLOW_ENRICH_MMDB",
        "DMARCFLOW_ENRICH_DNS",
        "DMARCFLOW_ENRICH_NAMESERVERS",
        "DMARCFLOW_ENRICH_SENDERS",
        "DMARCFLOW_ENRICH_TIMEOUT_MS",
        "DMARCFLOW_ENRICH_VERIFY_REPORTS",
        "DMARCFLOW_ENRICH_UNAUTHENTICATED",
    ];
    if section.is_none() && VARS.iter().all(|v| env(v).is_none()) {
        return Ok(None);
    }
    let section = section.unwrap_or_default();
    let list = |v: String| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mmdb = match env("DMARCFLOW_ENRICH_MMDB") {
        Some(v) => list(v).into_iter().map(PathBuf::from).collect(),
        None => section.mmdb.unwrap_or_default(),
    };
    let flag = |v: String| matches!(v.trim(), "1" | "true" | "yes");
    let dns = env("DMARCFLOW_ENRICH_DNS")
        .map(flag)
        .or(section.dns)
        .unwrap_or(true);
    let verify_reports = env("DMARCFLOW_ENRICH_VERIFY_REPORTS")
        .map(flag)
        .or(section.verify_reports)
        .unwrap_or(true);
    let unauthenticated = match env("DMARCFLOW_ENRICH_UNAUTHENTICATED")
        .or(section.unauthenticated)
        .as_deref()
        .map(str::trim)
    {
        None | Some("store") => Unauthenticated::Store,
        Some("dead-letter") => Unauthenticated::DeadLetter,
        Some(other) => {
            anyhow::bail!("enrich.unauthenticated: {other:?} is not \"store\" or \"dead-letter\"")
        }
    };
    let nameservers = env("DMARCFLOW_ENRICH_NAMESERVERS")
        .map(list)
        .or(section.nameservers)
        .unwrap_or_default()
        .iter()
        .map(|s| nameserver(s))
        .collect::<Result<Vec<_>>>()?;
    let timeout = match env("DMARCFLOW_ENRICH_TIMEOUT_MS") {
        Some(v) => Some(v.trim().parse().context("DMARCFLOW_ENRICH_TIMEOUT_MS")?),
        None => section.timeout_ms,
    }
    .map(Duration::from_millis);
    Ok(Some(EnrichConfig {
        mmdb,
        dns,
        nameservers,
        timeout,
        senders: env("DMARCFLOW_ENRICH_SENDERS")
            .map(PathBuf::from)
            .or(section.senders),
        public_suffix_list: section.public_suffix_list,
        verify_reports,
        unauthenticated,
    }))
}

/// `1.2.3.4`, `1.2.3.4:5353`, `[2001:db8::1]:53`, `2001:db8::1`.
fn nameserver(text: &str) -> Result<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let ip: std::net::IpAddr = text
        .parse()
        .with_context(|| format!("enrich.nameservers: {text:?} is not ip or ip:port"))?;
    Ok(SocketAddr::new(ip, 53))
}
