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
}

#[derive(Debug, Clone)]
pub struct Dns {
    pub listen: String,
    pub zone: String,
    pub nameserver: String,
    pub rate: f64,
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
    Ok(Some(Dns {
        nameserver: section.nameserver.unwrap_or_else(|| format!("ns.{zone}")),
        listen,
        zone,
        rate: section.rate.unwrap_or(20.0).max(1.0),
    }))
}
