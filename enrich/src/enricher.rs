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

use dmarcflow_schemas::{Ingested, ReporterAuth};

use crate::{
    NetworkDatabases, ReportVerifier, ReverseDns, SenderMap, Signatures, SourceCache, SuffixList,
};

pub struct Enricher {
    /// None: no reverse DNS (`[enrich] dns = false`).
    pub dns: Option<ReverseDns>,
    /// None: report emails are not verified (`verify_reports = false`,
    /// or no DNS).
    pub verifier: Option<ReportVerifier>,
    /// What to do with a report whose email is not the reporter's own.
    pub unauthenticated: Unauthenticated,
    pub networks: NetworkDatabases,
    pub suffixes: SuffixList,
    pub senders: SenderMap,
    pub cache: SourceCache,
}

/// No DNS, no MMDB file, the compiled suffix list and the project's map.
impl Default for Enricher {
    fn default() -> Self {
        Self {
            dns: None,
            verifier: None,
            unauthenticated: Unauthenticated::Store,
            networks: NetworkDatabases::default(),
            suffixes: SuffixList::Builtin,
            senders: SenderMap::builtin(),
            cache: SourceCache::default(),
        }
    }
}

/// `[enrich] unauthenticated`: a report whose email is not the reporter's
/// own (unsigned, failing, or signed by another domain).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unauthenticated {
    /// Stored, flagged by its `reporter_auth` (the default).
    #[default]
    Store,
    /// Dead-lettered with the reason `unauthenticated`.
    DeadLetter,
}

impl Enricher {
    /// The signatures of a report email, when verification is on.
    pub async fn signatures(
        &self,
        raw: &[u8],
        envelope: Option<&crate::report_auth::Envelope>,
    ) -> Option<Signatures> {
        match &self.verifier {
            Some(v) => Some(v.signatures(raw, envelope).await),
            None => None,
        }
    }

    /// The verdict on the email that carried a report (`signatures`;
    /// `None` for a report not received by email, which is left as it is).
    /// `Err` with the reason when `unauthenticated` dead-letters it. Its
    /// sources are the stage's work ([`Enricher::stage`]); the verdict
    /// comes first, so that a refused report is not enriched for nothing.
    pub fn judge(
        &self,
        item: &mut Ingested<'_>,
        signatures: Option<&Signatures>,
    ) -> Result<(), String> {
        if let Some(s) = signatures {
            let reporter = crate::report_auth::reporter_domain(&item.report, s.from.as_deref());
            let auth: ReporterAuth = s.verdict(reporter.as_deref(), &self.suffixes);
            let refused =
                self.unauthenticated == Unauthenticated::DeadLetter && !auth.authenticated();
            let reason = format!(
                "the report email is not {}'s own: DKIM {} ({})",
                reporter.as_deref().unwrap_or("the reporter"),
                auth.verdict.as_str(),
                match (&auth.dkim, &auth.dkim_domain) {
                    (Some(r), Some(d)) => format!("{r}, d={d}"),
                    _ => "no signature".to_owned(),
                }
            );
            item.reporter = Some(auth);
            if refused {
                return Err(reason);
            }
        }
        Ok(())
    }

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
        if let Some(mut known) = self.cache.get(addr) {
            known.ip = source.ip;
            return known;
        }
        let mut until = None;
        if let Some(dns) = &self.dns {
            let (ptr, valid) = dns.lookup_until(addr).await;
            until = valid;
            source.ptr_confirmed = ptr.confirmed;
            source.lookup_failed = ptr.failed;
            source.base_domain = ptr
                .name
                .as_deref()
                .and_then(|n| self.suffixes.base_domain(n));
            source.ptr = ptr.name;
        }
        let network = self.networks.lookup(addr);
        source.asn = network.asn;
        source.as_name = network.as_name;
        source.as_domain = network.as_domain;
        source.country = network.country;
        self.name_address(&mut source);
        if self.dns.is_none() || until.is_some() {
            self.cache.put(addr, &source, until);
        }
        source
    }
}

impl Enricher {
    /// Adds `source` to every record of an aggregate report, to a failure
    /// report, and to both ends of every TLS-RPT failure detail; each
    /// distinct address is looked up once, all of them at once.
    pub async fn report(&self, report: &mut dmarcflow_schemas::Report<'_>) {
        use dmarcflow_schemas::Report;
        match report {
            Report::Aggregate(r) => {
                let by_ip = self
                    .sources(r.records.iter().map(|rec| rec.source_ip.as_ref()))
                    .await;
                for record in &mut r.records {
                    record.source = by_ip.get(record.source_ip.as_ref()).cloned();
                    self.identify(record);
                }
            }
            Report::Failure(r) => {
                if let Some(ip) = r.source_ip.as_deref() {
                    r.source = Some(Box::new(self.source(ip).await));
                }
            }
            Report::Tlsrpt(r) => {
                let details = || r.policies.iter().flat_map(|p| &p.failure_details);
                let ips: Vec<String> = details()
                    .flat_map(|d| [d.sending_mta_ip.as_deref(), d.receiving_ip.as_deref()])
                    .flatten()
                    .map(str::to_owned)
                    .collect();
                let by_ip = self.sources(ips.iter().map(String::as_str)).await;
                let find = |ip: Option<&str>| ip.and_then(|ip| by_ip.get(ip)).cloned();
                for detail in r.policies.iter_mut().flat_map(|p| &mut p.failure_details) {
                    detail.sending_mta_source = find(detail.sending_mta_ip.as_deref());
                    detail.receiving_source = find(detail.receiving_ip.as_deref());
                }
            }
        }
    }

    /// Whether a report has an address without its `source` (a report
    /// published by a source without `[enrich]`: the sink adds it).
    pub fn missing(report: &dmarcflow_schemas::Report<'_>) -> bool {
        use dmarcflow_schemas::Report;
        match report {
            Report::Aggregate(r) => r.records.iter().any(|rec| rec.source.is_none()),
            Report::Failure(r) => r.source_ip.is_some() && r.source.is_none(),
            Report::Tlsrpt(r) => r.policies.iter().flat_map(|p| &p.failure_details).any(|d| {
                (d.sending_mta_ip.is_some() && d.sending_mta_source.is_none())
                    || (d.receiving_ip.is_some() && d.receiving_source.is_none())
            }),
        }
    }

    /// Each distinct address of `ips`, looked up concurrently.
    async fn sources<'i>(
        &self,
        ips: impl Iterator<Item = &'i str>,
    ) -> std::collections::HashMap<String, Box<Source>> {
        let mut ips: Vec<&str> = ips.collect();
        ips.sort_unstable();
        ips.dedup();
        let found = futures_util::future::join_all(ips.iter().map(|ip| self.source(ip))).await;
        found
            .into_iter()
            .map(|s| (s.ip.clone(), Box::new(s)))
            .collect()
    }
}
