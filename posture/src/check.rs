//! One domain's whole check, and many domains' with a bound on how many
//! run at once.

use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde::Serialize;

use crate::bimi::{self, Bimi};
use crate::dkim::{self, DkimKey, SelectorSource};
use crate::dmarc::{self, Dmarc};
use crate::dns::Dns;
use crate::finding::{Finding, Severity};
use crate::https::Https;
use crate::mta_sts::{self, MtaSts};
use crate::mx::{self, Mx};
use crate::score;
use crate::spf::{self, Spf};
use crate::starttls::{self, Smtp};
use crate::tlsrpt::{self, TlsRpt};

/// What the report data says about the domain, when the store has any
/// (filled in by the caller: this crate reads no store).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FromReports {
    /// DMARC: `ready`, `not_ready` or `enforced` (empty without aggregate
    /// reports).
    pub verdict: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    /// MTA-STS, from the TLS reports: `ready`, `not_ready` or `enforced`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mta_sts_verdict: Option<String>,
    /// ... and what it rests on (the blockers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mta_sts: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posture {
    pub domain: String,
    /// Unix seconds.
    pub checked_at: u64,
    pub score: u8,
    pub grade: &'static str,
    pub dmarc: Dmarc,
    pub spf: Spf,
    pub dkim: Vec<DkimKey>,
    pub mta_sts: MtaSts,
    pub tlsrpt: TlsRpt,
    pub bimi: Bimi,
    pub mx: Vec<Mx>,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<FromReports>,
}

impl Posture {
    pub fn critical(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Critical)
    }
}

/// What a check reaches beyond the DNS: policy and logo fetches, and the
/// MX hosts' port 25 (None skips those probes, as where port 25 is
/// blocked).
pub struct Clients {
    pub https: Https,
    pub smtp: Option<Smtp>,
}

/// Checks one domain; `selectors` are the DKIM selectors to look at.
pub async fn check(
    dns: &impl Dns,
    clients: &Clients,
    domain: &str,
    selectors: &[(String, SelectorSource)],
) -> Posture {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut findings = Vec::new();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    let mut posture = Posture {
        domain: domain.clone(),
        checked_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        score: 0,
        grade: "F",
        dmarc: Dmarc::default(),
        spf: Spf::default(),
        dkim: Vec::new(),
        mta_sts: MtaSts::default(),
        tlsrpt: TlsRpt::default(),
        bimi: Bimi::default(),
        mx: Vec::new(),
        findings: Vec::new(),
        enforcement: None,
    };
    if !valid {
        posture.findings.push(Finding::critical(
            "domain.invalid",
            format!("{domain:?} is not a domain name"),
        ));
        return posture;
    }
    posture.mx = mx::check(dns, &domain, &mut findings).await;
    posture.dmarc = dmarc::check(dns, &domain, &mut findings).await;
    posture.spf = spf::check(dns, &domain, &mut findings).await;
    posture.dkim = dkim::check(dns, &domain, selectors, &mut findings).await;
    posture.mta_sts =
        mta_sts::check(dns, &clients.https, &domain, &posture.mx, &mut findings).await;
    if let Some(smtp) = &clients.smtp {
        let probes = posture
            .mx
            .iter()
            .filter(|m| !m.host.is_empty())
            .take(starttls::MAX_HOSTS)
            .map(|m| smtp.probe(dns, &m.host));
        let seen = futures_util::future::join_all(probes).await;
        for (mx, tls) in posture
            .mx
            .iter_mut()
            .filter(|m| !m.host.is_empty())
            .zip(seen)
        {
            mx.tls = Some(tls);
        }
        let now = i64::try_from(posture.checked_at).unwrap_or(i64::MAX);
        starttls::findings(
            &posture.mx,
            posture.mta_sts.mode.as_deref(),
            now,
            &mut findings,
        );
    }
    posture.tlsrpt = tlsrpt::check(dns, &domain, &mut findings).await;
    if posture.mta_sts.record.is_some() {
        // With MTA-STS, TLS reports are how its failures are seen.
        for f in findings.iter_mut().filter(|f| f.code == "tlsrpt.missing") {
            f.severity = Severity::Warning;
        }
    }
    posture.bimi = bimi::check(dns, &clients.https, &domain, &posture.dmarc, &mut findings).await;
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    posture.score = score::score(&findings);
    posture.grade = score::grade(posture.score, &findings);
    posture.findings = findings;
    posture
}

/// Checks `domains` with at most `concurrency` at once, in their order.
pub async fn check_all<'a, D: Dns>(
    dns: &'a D,
    clients: &'a Clients,
    domains: &'a [(String, Vec<(String, SelectorSource)>)],
    concurrency: usize,
) -> Vec<Posture> {
    futures_util::stream::iter(domains)
        .map(|(domain, selectors)| check(dns, clients, domain, selectors))
        .buffered(concurrency.max(1))
        .collect()
        .await
}
