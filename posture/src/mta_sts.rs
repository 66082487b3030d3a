//! MTA-STS (RFC 8461): the `_mta-sts` record announcing a policy and its
//! `id`, the policy itself fetched from `https://mta-sts.<domain>/.well-
//! known/mta-sts.txt` as a sender would ([`crate::https`]), its syntax,
//! mode and `max_age`, and whether its `mx` patterns cover every MX host.

use serde::Serialize;

use crate::dns::{Dns, Lookup};
use crate::finding::{Finding, Severity};
use crate::https::{FetchError, Https};
use crate::mx::Mx;
use crate::tags::Tags;

/// RFC 8461 3.2: at most a year.
pub const MAX_AGE_LIMIT: u64 = 31_557_600;
/// Under a day, a policy protects little between fetches.
pub const MAX_AGE_ADVISED: u64 = 86_400;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MtaSts {
    pub record: Option<String>,
    pub id: Option<String>,
    /// The policy's text as served.
    pub policy: Option<String>,
    pub mode: Option<String>,
    pub max_age: Option<u64>,
    pub mx: Vec<String>,
    /// MX hosts no pattern covers.
    pub uncovered: Vec<String>,
}

pub async fn check(
    dns: &impl Dns,
    https: &Https,
    domain: &str,
    mx: &[Mx],
    findings: &mut Vec<Finding>,
) -> MtaSts {
    let name = format!("_mta-sts.{domain}");
    let records: Vec<String> = match dns.txt(&name).await {
        Lookup::Found(texts) => texts
            .into_iter()
            .filter(|t| Tags::opens_with(t, "STSv1"))
            .collect(),
        Lookup::Absent => Vec::new(),
        Lookup::Failed(why) => {
            findings.push(Finding::warning(
                "mta_sts.lookup_failed",
                format!("{name} could not be looked up: {why}"),
            ));
            return MtaSts::default();
        }
    };
    let record = match records.as_slice() {
        [] => {
            findings.push(Finding::info(
                "mta_sts.missing",
                format!("{domain} publishes no MTA-STS policy: senders deliver to it without requiring TLS"),
            ));
            return MtaSts::default();
        }
        [one] => one.clone(),
        _ => {
            findings.push(Finding::critical(
                "mta_sts.multiple",
                format!(
                    "{name} has {} records: senders treat the domain as having no policy",
                    records.len()
                ),
            ));
            return MtaSts::default();
        }
    };
    let mut sts = MtaSts {
        id: Tags::parse(&record).get("id").map(str::to_owned),
        record: Some(record),
        ..MtaSts::default()
    };
    let id_ok = sts.id.as_deref().is_some_and(|id| {
        (1..=32).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if !id_ok {
        findings.push(Finding::critical(
            "mta_sts.syntax",
            format!(
                "{name}: id must be 1 to 32 letters and digits (it is {:?})",
                sts.id.as_deref().unwrap_or("")
            ),
        ));
    }
    let host = format!("mta-sts.{domain}");
    let fetched = match https.get(dns, &host, "/.well-known/mta-sts.txt").await {
        Ok(fetched) => fetched,
        Err(e) => {
            let why = match e {
                FetchError::TooLarge(n) => format!("the policy is over {n} bytes"),
                other => other.to_string(),
            };
            findings.push(Finding::critical(
                "mta_sts.policy_unreachable",
                format!("the policy at https://{host}/.well-known/mta-sts.txt could not be fetched: {why}"),
            ));
            return sts;
        }
    };
    let invalid = |why: String| {
        Finding::critical(
            "mta_sts.policy_invalid",
            format!("https://{host}/.well-known/mta-sts.txt: {why}"),
        )
    };
    if fetched.status != 200 {
        let redirect = fetched
            .location
            .as_deref()
            .map(|l| format!(" (a redirect to {l}, which senders must not follow)"))
            .unwrap_or_default();
        findings.push(invalid(format!("HTTP status {}{redirect}", fetched.status)));
        return sts;
    }
    let media = fetched
        .content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    if media.as_deref() != Some("text/plain") {
        findings.push(invalid(format!(
            "served as {:?}, not text/plain",
            fetched.content_type.as_deref().unwrap_or("(no type)")
        )));
        return sts;
    }
    let Ok(text) = String::from_utf8(fetched.body) else {
        findings.push(invalid("not UTF-8 text".into()));
        return sts;
    };
    let problems = read_policy(&text, &mut sts);
    sts.policy = Some(text);
    if !problems.is_empty() {
        findings.push(invalid(problems.join("; ")));
        return sts;
    }
    match sts.mode.as_deref() {
        Some("testing") => findings.push(Finding::info(
            "mta_sts.testing",
            format!(
                "{domain}'s MTA-STS policy is in testing mode: failures are reported, not enforced"
            ),
        )),
        Some("none") => findings.push(Finding::warning(
            "mta_sts.mode_none",
            format!("{domain}'s MTA-STS policy is mode none: it protects nothing"),
        )),
        _ => {}
    }
    if let Some(age) = sts.max_age.filter(|a| *a < MAX_AGE_ADVISED) {
        findings.push(Finding::warning(
            "mta_sts.max_age_short",
            format!("{domain}'s MTA-STS max_age is {age} s: senders forget the policy within a day (weeks are usual)"),
        ));
    }
    if sts.mode.as_deref() != Some("none") {
        sts.uncovered = mx
            .iter()
            .filter(|m| !m.host.is_empty())
            .filter(|m| !sts.mx.iter().any(|p| covers(p, &m.host)))
            .map(|m| m.host.clone())
            .collect();
        if !sts.uncovered.is_empty() {
            let severity = if sts.mode.as_deref() == Some("enforce") {
                Severity::Critical
            } else {
                Severity::Warning
            };
            findings.push(Finding::new(
                "mta_sts.mx_not_covered",
                severity,
                format!(
                    "{domain}'s MTA-STS policy does not cover its MX hosts {}: senders enforcing it cannot deliver to them",
                    sts.uncovered.join(", ")
                ),
            ));
        }
    }
    sts
}

/// Reads a policy's `key: value` lines into `sts`; its problems.
fn read_policy(text: &str, sts: &mut MtaSts) -> Vec<String> {
    let mut problems = Vec::new();
    let mut version = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            problems.push(format!("{line:?} is not key: value"));
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "version" => version = Some(value.to_owned()),
            "mode" => sts.mode = Some(value.to_owned()),
            "mx" => sts.mx.push(value.to_ascii_lowercase()),
            "max_age" => match value.parse::<u64>() {
                Ok(age) if age <= MAX_AGE_LIMIT => sts.max_age = Some(age),
                _ => problems.push(format!("max_age {value:?} is not 0-{MAX_AGE_LIMIT}")),
            },
            _ => {}
        }
    }
    if version.as_deref() != Some("STSv1") {
        problems.push(format!(
            "version is {:?}, not STSv1",
            version.unwrap_or_default()
        ));
    }
    match sts.mode.as_deref() {
        Some("enforce" | "testing" | "none") => {}
        other => problems.push(format!(
            "mode is {:?}, not enforce, testing or none",
            other.unwrap_or("")
        )),
    }
    if sts.max_age.is_none() && !problems.iter().any(|p| p.starts_with("max_age")) {
        problems.push("no max_age".to_owned());
    }
    if sts.mx.is_empty() && sts.mode.as_deref() != Some("none") {
        problems.push("no mx patterns".to_owned());
    }
    problems
}

/// RFC 8461 4.1: a pattern is a host name, or `*.` and a name matching
/// exactly one more label on the left.
pub fn covers(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => host == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_cover_one_label() {
        assert!(covers("mx1.example.com", "MX1.example.com."));
        assert!(covers("*.example.com", "mx.example.com"));
        assert!(!covers("*.example.com", "a.mx.example.com"));
        assert!(!covers("*.example.com", "example.com"));
    }

    #[test]
    fn policies_read_and_refused() {
        let mut sts = MtaSts::default();
        let ok = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n";
        assert_eq!(read_policy(ok, &mut sts), Vec::<String>::new());
        assert_eq!(sts.mx, ["mx1.example.com", "*.example.net"]);
        assert_eq!(sts.max_age, Some(604_800));
        let mut sts = MtaSts::default();
        let bad = "version: STSv2\nmode: strict\nmax_age: 99999999999\nhello\n";
        assert_eq!(
            read_policy(bad, &mut sts),
            [
                "max_age \"99999999999\" is not 0-31557600",
                "\"hello\" is not key: value",
                "version is \"STSv2\", not STSv1",
                "mode is \"strict\", not enforce, testing or none",
                "no mx patterns"
            ]
        );
    }
}
