//! DMARC (RFC 7489, RFC 9989): where the policy record is found, what it
//! says, and whether its report destinations accepted to receive reports.
//!
//! Discovery follows RFC 9989's tree walk: `_dmarc.<domain>`, then each
//! parent name in turn (a name of more than eight labels first shortened
//! to its last seven), never the top-level domain itself. For the usual
//! case this finds what RFC 7489's organisational-domain fallback finds.

use serde::Serialize;

use crate::dns::{Dns, Lookup};
use crate::finding::{Finding, Severity};
use crate::tags::Tags;

/// A requested policy (`p`, `sp`, `np`), unknown values kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Policy {
    None,
    Quarantine,
    Reject,
    Other(String),
}

impl Policy {
    pub fn parse(value: &str) -> Self {
        match value.to_ascii_lowercase().as_str() {
            "none" => Policy::None,
            "quarantine" => Policy::Quarantine,
            "reject" => Policy::Reject,
            _ => Policy::Other(value.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Policy::None => "none",
            Policy::Quarantine => "quarantine",
            Policy::Reject => "reject",
            Policy::Other(other) => other,
        }
    }

    /// How strong: none < quarantine < reject (unknown: none, as a
    /// receiver treats it).
    fn strength(&self) -> u8 {
        match self {
            Policy::Reject => 2,
            Policy::Quarantine => 1,
            _ => 0,
        }
    }
}

impl From<Policy> for String {
    fn from(policy: Policy) -> String {
        policy.as_str().to_owned()
    }
}

/// What the check learnt about a domain's DMARC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dmarc {
    /// The name the record was found at (`_dmarc.example.com`).
    pub record_name: Option<String>,
    /// `exact` (the domain's own) or `tree walk` (a parent's).
    pub discovery: Option<&'static str>,
    pub record: Option<String>,
    pub policy: Option<Policy>,
    pub subdomain_policy: Option<Policy>,
    pub nonexistent_policy: Option<Policy>,
    pub pct: Option<u8>,
    pub testing: bool,
    pub adkim: Option<String>,
    pub aspf: Option<String>,
    pub rua: Vec<String>,
    pub ruf: Vec<String>,
    pub fo: Option<String>,
    pub psd: Option<String>,
}

impl Dmarc {
    /// Whether receivers apply quarantine or reject to all of the
    /// domain's failing mail (what BIMI requires).
    pub fn enforced(&self) -> bool {
        matches!(self.policy, Some(Policy::Quarantine | Policy::Reject))
            && self.pct.unwrap_or(100) == 100
            && !self.testing
    }
}

const KNOWN: &[&str] = &[
    "v", "p", "sp", "np", "pct", "t", "adkim", "aspf", "rua", "ruf", "fo", "rf", "ri", "psd",
];

/// The names RFC 9989's tree walk queries for `domain`, in order.
pub fn walk(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    let mut names = vec![format!("_dmarc.{}", labels.join("."))];
    let mut start = if labels.len() > 8 {
        labels.len() - 7
    } else {
        1
    };
    while start < labels.len() - 1 {
        names.push(format!("_dmarc.{}", labels[start..].join(".")));
        start += 1;
    }
    names
}

/// Finds and checks the DMARC record governing `domain`.
pub async fn check(dns: &impl Dns, domain: &str, findings: &mut Vec<Finding>) -> Dmarc {
    let mut dmarc = Dmarc::default();
    for (i, name) in walk(domain).into_iter().enumerate() {
        let records: Vec<String> = match dns.txt(&name).await {
            Lookup::Found(texts) => texts
                .into_iter()
                .filter(|t| Tags::opens_with(t, "DMARC1"))
                .collect(),
            Lookup::Absent => Vec::new(),
            Lookup::Failed(why) => {
                findings.push(Finding::critical(
                    "dmarc.lookup_failed",
                    format!("the DMARC record could not be looked up: {why}"),
                ));
                return dmarc;
            }
        };
        if records.is_empty() {
            continue;
        }
        if records.len() > 1 {
            findings.push(Finding::critical(
                "dmarc.multiple",
                format!(
                    "{name} has {} DMARC records; receivers then apply none of them",
                    records.len()
                ),
            ));
            return dmarc;
        }
        dmarc.record_name = Some(name.clone());
        dmarc.discovery = Some(if i == 0 { "exact" } else { "tree walk" });
        if i > 0 {
            findings.push(Finding::info(
                "dmarc.inherited",
                format!("{domain} has no DMARC record of its own; {name} applies to it"),
            ));
        }
        let record = records.into_iter().next().unwrap_or_default();
        read(&record, domain, &mut dmarc, findings);
        dmarc.record = Some(record);
        authorised_destinations(dns, domain, &dmarc, findings).await;
        return dmarc;
    }
    findings.push(
        Finding::critical(
            "dmarc.missing",
            format!("{domain} publishes no DMARC record (nor does any parent domain): receivers apply no policy and send no reports"),
        )
        .fixed_by_txt(
            &format!("_dmarc.{domain}"),
            &format!("v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"),
        ),
    );
    dmarc
}

/// Reads a record's tags into `dmarc`, with a finding for each problem.
fn read(record: &str, domain: &str, dmarc: &mut Dmarc, findings: &mut Vec<Finding>) {
    let name = dmarc.record_name.clone().unwrap_or_default();
    let tags = Tags::parse(record);
    let mut syntax = Vec::new();
    syntax.extend(
        tags.malformed
            .iter()
            .map(|m| format!("{m:?} is not tag=value")),
    );
    syntax.extend(tags.repeated().iter().map(|t| format!("{t} given twice")));
    if tags.tags.first().map(|(n, _)| n.as_str()) != Some("v") {
        syntax.push("v=DMARC1 is not the first tag".to_owned());
    }
    let policy = |tag: &str, syntax: &mut Vec<String>| {
        tags.get(tag).map(|v| {
            let p = Policy::parse(v);
            if let Policy::Other(other) = &p {
                syntax.push(format!("{tag}={other} is none of none, quarantine, reject"));
            }
            p
        })
    };
    dmarc.psd = tags.get("psd").map(str::to_owned);
    dmarc.policy = policy("p", &mut syntax);
    dmarc.subdomain_policy = policy("sp", &mut syntax);
    dmarc.nonexistent_policy = policy("np", &mut syntax);
    if dmarc.policy.is_none() && dmarc.psd.is_none() {
        syntax.push("the p tag is missing".to_owned());
    }
    if let Some(pct) = tags.get("pct") {
        match pct.parse::<u8>() {
            Ok(p) if p <= 100 => dmarc.pct = Some(p),
            _ => syntax.push(format!("pct={pct} is not 0-100")),
        }
    }
    match tags.get("t") {
        Some("y") => dmarc.testing = true,
        Some("n") | None => {}
        Some(other) => syntax.push(format!("t={other} is neither y nor n")),
    }
    for tag in ["adkim", "aspf"] {
        if let Some(v) = tags.get(tag) {
            if v != "r" && v != "s" {
                syntax.push(format!("{tag}={v} is neither r nor s"));
            }
            let value = Some(v.to_owned());
            if tag == "adkim" {
                dmarc.adkim = value;
            } else {
                dmarc.aspf = value;
            }
        }
    }
    dmarc.rua = uris(tags.get("rua"), &mut syntax, "rua");
    dmarc.ruf = uris(tags.get("ruf"), &mut syntax, "ruf");
    dmarc.fo = tags.get("fo").map(str::to_owned);
    if !syntax.is_empty() {
        findings.push(Finding::critical(
            "dmarc.syntax",
            format!("{name}: {}", syntax.join("; ")),
        ));
    }
    let unknown: Vec<&str> = tags
        .tags
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !KNOWN.contains(n))
        .collect();
    if !unknown.is_empty() {
        findings.push(Finding::warning(
            "dmarc.unknown_tag",
            format!("{name}: unknown tags {} (a typo?)", unknown.join(", ")),
        ));
    }
    let rua = if dmarc.rua.is_empty() {
        format!("mailto:dmarc-reports@{domain}")
    } else {
        dmarc.rua.join(",")
    };
    match &dmarc.policy {
        Some(Policy::None) => findings.push(
            Finding::warning(
                "dmarc.policy_none",
                format!("{name} asks for no action (p=none): spoofed mail is delivered; move to quarantine once your own senders align"),
            )
            .fixed_by_txt(&name, &format!("v=DMARC1; p=quarantine; rua={rua}")),
        ),
        Some(Policy::Quarantine) => findings.push(Finding::info(
            "dmarc.policy_quarantine",
            format!("{name} asks for quarantine; reject is the last step"),
        )),
        _ => {}
    }
    if let Some(pct) = dmarc.pct.filter(|p| *p < 100) {
        findings.push(Finding::warning(
            "dmarc.pct_partial",
            format!("{name} applies its policy to {pct}% of failing mail only"),
        ));
    }
    if dmarc.testing {
        findings.push(Finding::warning(
            "dmarc.testing",
            format!("{name} is in test mode (t=y): receivers apply one step less than p"),
        ));
    }
    if dmarc.rua.is_empty() {
        findings.push(
            Finding::warning(
                "dmarc.no_rua",
                format!("{name} asks for no aggregate reports (no rua): nobody sees who sends as {domain}"),
            )
            .fixed_by_txt(&name, &format!("{record}; rua={rua}")),
        );
    }
    let weaker = |p: &Option<Policy>| match (&dmarc.policy, p) {
        (Some(policy), Some(sub)) => sub.strength() < policy.strength(),
        _ => false,
    };
    if weaker(&dmarc.subdomain_policy) {
        findings.push(Finding::new(
            "dmarc.subdomain_weaker",
            Severity::Info,
            format!("{name}: subdomains get a weaker policy (sp) than the domain"),
        ));
    }
    if weaker(&dmarc.nonexistent_policy) {
        findings.push(Finding::info(
            "dmarc.nonexistent_weaker",
            format!("{name}: names that do not exist get a weaker policy (np) than the domain"),
        ));
    }
}

/// The URIs of a `rua`/`ruf` tag (an optional `!size` suffix dropped).
fn uris(value: Option<&str>, syntax: &mut Vec<String>, tag: &str) -> Vec<String> {
    let Some(value) = value else {
        return Vec::new();
    };
    let mut uris = Vec::new();
    for uri in value.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let uri = uri.split('!').next().unwrap_or(uri);
        let lower = uri.to_ascii_lowercase();
        let mailto = lower.starts_with("mailto:") && uri.contains('@');
        if mailto || lower.starts_with("https:") || lower.starts_with("http:") {
            uris.push(uri.to_owned());
        } else {
            syntax.push(format!("{tag} has {uri:?}, not a mailto: address"));
        }
    }
    uris
}

/// RFC 7489 7.1: a report destination outside the domain's organisation
/// must publish `<domain>._report._dmarc.<destination>` to accept them.
async fn authorised_destinations(
    dns: &impl Dns,
    domain: &str,
    dmarc: &Dmarc,
    findings: &mut Vec<Finding>,
) {
    let own = organisational(domain);
    let mut asked = std::collections::HashSet::new();
    for uri in dmarc.rua.iter().chain(&dmarc.ruf) {
        let Some((_, host)) = uri.rsplit_once('@') else {
            continue;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if organisational(&host) == own || !asked.insert(host.clone()) {
            continue;
        }
        let name = format!("{domain}._report._dmarc.{host}");
        let authorised = match dns.txt(&name).await {
            Lookup::Found(texts) => texts.iter().any(|t| Tags::opens_with(t, "DMARC1")),
            Lookup::Absent => false,
            Lookup::Failed(why) => {
                findings.push(Finding::warning(
                    "dmarc.destination_unknown",
                    format!(
                        "whether {host} accepts {domain}'s reports could not be looked up: {why}"
                    ),
                ));
                continue;
            }
        };
        if !authorised {
            findings.push(
                Finding::warning(
                    "dmarc.destination_unauthorised",
                    format!("{host} has not published {name}: receivers send it no reports for {domain} (RFC 7489 7.1)"),
                )
                .fixed_by_txt(&name, "v=DMARC1"),
            );
        }
    }
}

/// The registrable domain (Public Suffix List) of a name, or the name.
pub fn organisational(name: &str) -> String {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&name).map_or(name.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::FakeDns;

    fn run(dns: &FakeDns, domain: &str) -> (Dmarc, Vec<Finding>) {
        let mut findings = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let dmarc = rt.block_on(check(dns, domain, &mut findings));
        (dmarc, findings)
    }

    fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn the_tree_walk_stops_before_the_top_level_domain() {
        assert_eq!(
            walk("a.b.example.com"),
            [
                "_dmarc.a.b.example.com",
                "_dmarc.b.example.com",
                "_dmarc.example.com"
            ]
        );
        assert_eq!(walk("example.com"), ["_dmarc.example.com"]);
        let long = walk("a.b.c.d.e.f.g.h.i.example");
        assert_eq!(long[0], "_dmarc.a.b.c.d.e.f.g.h.i.example");
        assert_eq!(long[1], "_dmarc.d.e.f.g.h.i.example");
        assert_eq!(long.last().map(String::as_str), Some("_dmarc.i.example"));
    }

    #[test]
    fn a_policy_none_record_with_an_outside_destination() {
        let dns = FakeDns::default().with_txt(
            "_dmarc.example.com",
            "v=DMARC1; p=none; pct=50; rua=mailto:r@example.com,mailto:x@reports.example.net; foo=bar",
        );
        let (dmarc, findings) = run(&dns, "mail.example.com");
        assert_eq!(dmarc.record_name.as_deref(), Some("_dmarc.example.com"));
        assert_eq!(dmarc.discovery, Some("tree walk"));
        assert_eq!(dmarc.policy, Some(Policy::None));
        assert_eq!(dmarc.pct, Some(50));
        assert_eq!(
            codes(&findings),
            [
                "dmarc.inherited",
                "dmarc.unknown_tag",
                "dmarc.policy_none",
                "dmarc.pct_partial",
                "dmarc.destination_unauthorised"
            ]
        );
        let fix = findings.iter().find_map(|f| f.fix.clone());
        assert_eq!(
            fix.as_deref(),
            Some("_dmarc.example.com. TXT \"v=DMARC1; p=quarantine; rua=mailto:r@example.com,mailto:x@reports.example.net\"")
        );
    }

    #[test]
    fn missing_multiple_and_broken_records() {
        let (_, findings) = run(&FakeDns::default(), "example.org");
        assert_eq!(codes(&findings), ["dmarc.missing"]);
        let two = FakeDns::default()
            .with_txt("_dmarc.example.org", "v=DMARC1; p=reject")
            .with_txt("_dmarc.example.org", "v=DMARC1; p=none");
        assert_eq!(codes(&run(&two, "example.org").1), ["dmarc.multiple"]);
        let broken = FakeDns::default().with_txt(
            "_dmarc.example.org",
            "v=DMARC1; p=rejected; pct=150; adkim=x; rua=dmarc@example.org",
        );
        let (_, findings) = run(&broken, "example.org");
        assert_eq!(findings[0].code, "dmarc.syntax");
        assert_eq!(
            findings[0].message,
            "_dmarc.example.org: p=rejected is none of none, quarantine, reject; pct=150 is not 0-100; adkim=x is neither r nor s; rua has \"dmarc@example.org\", not a mailto: address"
        );
    }

    #[test]
    fn an_enforced_record_with_an_authorised_destination() {
        let dns = FakeDns::default()
            .with_txt(
                "_dmarc.example.org",
                "v=DMARC1; p=reject; rua=mailto:agg@reports.example.net",
            )
            .with_txt("example.org._report._dmarc.reports.example.net", "v=DMARC1");
        let (dmarc, findings) = run(&dns, "example.org");
        assert!(dmarc.enforced());
        assert_eq!(codes(&findings), Vec::<&str>::new());
    }
}
