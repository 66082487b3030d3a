//! `[dns]`: the hosted DNS zone (`dmarcflow_hosted::zone`), an
//! authoritative server for one zone of the operator's, answering the
//! records hosted domains delegate to it by CNAME (`[mta_sts]`).
//! `DMARCFLOW_DNS_LISTEN` overrides the file.

use anyhow::{bail, Result};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSection {
    /// ip:port, UDP and TCP.
    pub listen: Option<String>,
    /// The zone (`hosted.example.net`).
    pub zone: Option<String>,
    /// This server's name in the zone's SOA and NS (default `ns.<zone>`).
    pub nameserver: Option<String>,
    /// UDP queries a second per client address (default 20; bursts of
    /// twice that); beyond, unanswered.
    pub rate: Option<f64>,
    /// Seconds between flattening the SPF records again (default 3600).
    pub spf_refresh_secs: Option<u64>,
    /// Per domain, the SPF record to flatten into the zone.
    #[serde(default)]
    pub spf: std::collections::BTreeMap<String, SpfSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpfSection {
    /// The record as the owner would publish it (`v=spf1 include:... -all`).
    pub record: String,
}

#[derive(Debug, Clone)]
pub struct Dns {
    pub listen: String,
    pub zone: String,
    pub nameserver: String,
    pub rate: f64,
    /// Domain → the SPF record flattened into the zone.
    pub spf: std::collections::BTreeMap<String, String>,
    pub spf_refresh: std::time::Duration,
}

pub fn dns(
    section: Option<DnsSection>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Dns>> {
    let Some(section) = section else {
        return Ok(None);
    };
    let Some(listen) = env("DMARCFLOW_DNS_LISTEN").or(section.listen) else {
        bail!("dns: a listen address (ip:port)");
    };
    let Some(zone) = section
        .zone
        .map(|z| z.trim().trim_end_matches('.').to_ascii_lowercase())
    else {
        bail!("dns: the zone it serves");
    };
    if !zone.contains('.')
        || !zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        bail!("dns.zone {zone:?}: a domain name");
    }
    let mut spf = std::collections::BTreeMap::new();
    for (domain, s) in section.spf {
        if !s.record.to_ascii_lowercase().starts_with("v=spf1") {
            bail!("dns.spf.{domain:?}.record: an SPF record (v=spf1 ...)");
        }
        spf.insert(
            domain.trim().trim_end_matches('.').to_ascii_lowercase(),
            s.record,
        );
    }
    Ok(Some(Dns {
        nameserver: section.nameserver.unwrap_or_else(|| format!("ns.{zone}")),
        listen,
        zone,
        rate: section.rate.unwrap_or(20.0).max(1.0),
        spf,
        spf_refresh: std::time::Duration::from_secs(
            section.spf_refresh_secs.unwrap_or(3600).max(1),
        ),
    }))
}
