//! All the lookups together: an address in, its [`Source`] out.
//!
//! - `ptr`, `ptr_confirmed`: reverse DNS (when configured);
//! - `base_domain`: of the PTR name;
//! - `name`, `type`: the sender map, by the PTR's base domain, else by the
//!   base domain of the AS domain (an address without a PTR is still
//!   Google's when its network is);
//! - `asn`, `as_name`, `as_domain`, `country`: the MMDB files.

use std::net::IpAddr;

use dmarcflow_schemas::Source;

use crate::{NetworkDatabases, ReverseDns, SenderMap, SuffixList};

pub struct Enricher {
    /// None: no reverse DNS (`[enrich] dns = false`).
    pub dns: Option<ReverseDns>,
    pub networks: NetworkDatabases,
    pub suffixes: SuffixList,
    pub senders: SenderMap,
}

/// No DNS, no MMDB file, the compiled suffix list and the project's map.
impl Default for Enricher {
    fn default() -> Self {
        Self {
            dns: None,
            networks: NetworkDatabases::default(),
            suffixes: SuffixList::Builtin,
            senders: SenderMap::builtin(),
        }
    }
}

impl Enricher {
    /// Everything known about `ip` (a report's text: an address that does
    /// not parse gets only its text back).
    pub async fn source(&self, ip: &str) -> Source {
        let mut source = Source {
            ip: ip.to_owned(),
            ..Source::default()
        };
        let Ok(addr) = ip.trim().parse::<IpAddr>() else {
            return source;
        };
        if let Some(dns) = &self.dns {
            let ptr = dns.lookup(addr).await;
            source.ptr_confirmed = ptr.confirmed;
            source.lookup_failed = ptr.failed;
            source.base_domain = ptr
                .name
                .as_deref()
                .and_then(|n| self.suffixes.base_domain(n));
            source.ptr = ptr.name;
        }
        let network = self.networks.lookup(addr);
        let as_base = network
            .as_domain
            .as_deref()
            .and_then(|d| self.suffixes.base_domain(d));
        let sender = source
            .base_domain
            .as_deref()
            .and_then(|d| self.senders.lookup(d))
            .or_else(|| as_base.as_deref().and_then(|d| self.senders.lookup(d)));
        if let Some(sender) = sender {
            source.name = Some(sender.name.clone());
            source.kind = Some(sender.kind.as_str().to_owned());
        }
        source.asn = network.asn;
        source.as_name = network.as_name;
        source.as_domain = network.as_domain;
        source.country = network.country;
        source
    }
}

impl Enricher {
    /// Adds `source` to every record of an aggregate report and to a
    /// failure report; each distinct address is looked up once, all of
    /// them at once.
    pub async fn report(&self, report: &mut dmarcflow_schemas::Report<'_>) {
        use dmarcflow_schemas::Report;
        match report {
            Report::Aggregate(r) => {
                let mut ips: Vec<&str> =
                    r.records.iter().map(|rec| rec.source_ip.as_ref()).collect();
                ips.sort_unstable();
                ips.dedup();
                let found =
                    futures_util::future::join_all(ips.iter().map(|ip| self.source(ip))).await;
                let by_ip: std::collections::HashMap<String, Source> =
                    found.into_iter().map(|s| (s.ip.clone(), s)).collect();
                for record in &mut r.records {
                    if let Some(source) = by_ip.get(record.source_ip.as_ref()) {
                        record.source = Some(Box::new(source.clone()));
                    }
                }
            }
            Report::Failure(r) => {
                if let Some(ip) = r.source_ip.as_deref() {
                    r.source = Some(Box::new(self.source(ip).await));
                }
            }
            Report::Tlsrpt(_) => {}
        }
    }
}
