//! Flattened SPF for the hosted zone: a domain's SPF record (as its owner
//! writes it, with the includes of every service it sends through)
//! resolved to the address ranges it authorises, and split into a chain of
//! records in the zone, each within 450 bytes (RFC 7208 3.4) and the chain
//! within the 10-lookup limit (4.6.4), so an owner whose includes outgrew
//! the limit publishes one include into the zone instead.
//!
//! Only what can be flattened exactly is: `ip4`, `ip6`, `a`, `mx`,
//! `include` and `redirect` with the pass qualifier, and the `all` that
//! ends a record. A mechanism whose result depends on the connecting host
//! beyond its address (`exists`, `ptr`, macros) or that fails or softfails
//! a range inside an include would change the result once flattened: such
//! a record is refused with the reason, and the domain keeps its record.

use std::net::IpAddr;

use dmarcflow_posture::dns::{Dns, Lookup};

/// Lookups the flattening may make (the tree's, not the receivers').
const MAX_LOOKUPS: usize = 64;
/// Records in a chain: the owner's include and this many stay within 10.
pub const MAX_CHAIN: usize = 9;
/// Bytes of one chained record (RFC 7208 3.4 advises 450).
const MAX_RECORD: usize = 450;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlattenError {
    #[error("{0} cannot be flattened exactly: {1}")]
    Unflattenable(String, String),
    #[error("{0}: {1}")]
    Lookup(String, String),
    #[error("more than {MAX_LOOKUPS} lookups")]
    TooManyLookups,
    #[error("the ranges need more than {MAX_CHAIN} records")]
    TooLong,
}

/// The ranges a record authorises (`ip4:` and `ip6:` terms, in order,
/// without repeats).
pub async fn ranges(
    dns: &impl Dns,
    domain: &str,
    record: &str,
) -> Result<Vec<String>, FlattenError> {
    let mut out = Vec::new();
    let mut lookups = 0;
    walk(dns, domain, record, &mut out, &mut lookups, 0).await?;
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert(r.clone()));
    Ok(out)
}

fn unflattenable(domain: &str, why: &str) -> FlattenError {
    FlattenError::Unflattenable(domain.to_owned(), why.to_owned())
}

async fn spf_of(dns: &impl Dns, name: &str) -> Result<String, FlattenError> {
    match dns.txt(name).await {
        Lookup::Found(texts) => {
            let spf: Vec<String> = texts
                .into_iter()
                .filter(|t| {
                    t.to_ascii_lowercase().starts_with("v=spf1")
                        && (t.len() == 6 || t.as_bytes()[6] == b' ')
                })
                .collect();
            match spf.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(FlattenError::Lookup(
                    name.to_owned(),
                    "no SPF record".into(),
                )),
                _ => Err(FlattenError::Lookup(
                    name.to_owned(),
                    "more than one SPF record".into(),
                )),
            }
        }
        Lookup::Absent => Err(FlattenError::Lookup(
            name.to_owned(),
            "no SPF record".into(),
        )),
        Lookup::Failed(why) => Err(FlattenError::Lookup(name.to_owned(), why)),
    }
}

/// `ip4:`/`ip6:` terms for `addresses`, with the mechanism's prefixes.
fn as_ranges(addresses: &[IpAddr], v4: Option<u8>, v6: Option<u8>, out: &mut Vec<String>) {
    for ip in addresses {
        out.push(match (ip, v4, v6) {
            (IpAddr::V4(a), Some(p), _) if p < 32 => format!("ip4:{a}/{p}"),
            (IpAddr::V4(a), _, _) => format!("ip4:{a}"),
            (IpAddr::V6(a), _, Some(p)) if p < 128 => format!("ip6:{a}/{p}"),
            (IpAddr::V6(a), _, _) => format!("ip6:{a}"),
        });
    }
}

/// `domain/24//64` → (domain, 24, 64).
fn split_cidr(spec: &str) -> (&str, Option<u8>, Option<u8>) {
    let (target, v6) = match spec.split_once("//") {
        Some((t, v6)) => (t, v6.parse().ok()),
        None => (spec, None),
    };
    let (target, v4) = match target.split_once('/') {
        Some((t, v4)) => (t, v4.parse().ok()),
        None => (target, None),
    };
    (target, v4, v6)
}

async fn addresses(
    dns: &impl Dns,
    name: &str,
    lookups: &mut usize,
) -> Result<Vec<IpAddr>, FlattenError> {
    *lookups += 1;
    if *lookups > MAX_LOOKUPS {
        return Err(FlattenError::TooManyLookups);
    }
    match dns.addresses(name).await {
        Lookup::Found(a) => Ok(a),
        Lookup::Absent => Ok(Vec::new()),
        Lookup::Failed(why) => Err(FlattenError::Lookup(name.to_owned(), why)),
    }
}

fn walk<'a, D: Dns>(
    dns: &'a D,
    domain: &'a str,
    record: &'a str,
    out: &'a mut Vec<String>,
    lookups: &'a mut usize,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), FlattenError>> + Send + 'a>> {
    Box::pin(async move {
        if depth > 10 {
            return Err(unflattenable(
                domain,
                "includes nested over 10 deep (a loop?)",
            ));
        }
        let mut redirect = None;
        let mut ended = false;
        for term in record.split_whitespace().skip(1) {
            let lower = term.to_ascii_lowercase();
            if lower.contains('%') {
                return Err(unflattenable(domain, &format!("{term} uses macros")));
            }
            if let Some(target) = lower.strip_prefix("redirect=") {
                redirect = Some(target.to_owned());
                continue;
            }
            if lower.starts_with("exp=") || lower.contains('=') {
                continue;
            }
            let (pass, mechanism) = match lower.as_bytes().first() {
                Some(b'+') => (true, &lower[1..]),
                Some(b'-' | b'~' | b'?') => (false, &lower[1..]),
                _ => (true, lower.as_str()),
            };
            let (name, argument) = match mechanism.find([':', '/']) {
                Some(i) if mechanism.as_bytes()[i] == b':' => {
                    (&mechanism[..i], Some(&mechanism[i + 1..]))
                }
                Some(i) => (&mechanism[..i], Some(&mechanism[i..])),
                None => (mechanism, None),
            };
            if name == "all" {
                // What follows `all` never matches.
                ended = true;
                break;
            }
            if !pass {
                return Err(unflattenable(
                    domain,
                    &format!("{term} (a range that fails or is neutral before others pass)"),
                ));
            }
            match (name, argument) {
                ("ip4" | "ip6", Some(range)) => out.push(format!("{name}:{range}")),
                ("a", arg) | ("mx", arg) => {
                    let spec = arg.unwrap_or("");
                    let (target, v4, v6) = split_cidr(spec.trim_start_matches(':'));
                    let target = if target.is_empty() { domain } else { target };
                    if name == "a" {
                        let found = addresses(dns, target, lookups).await?;
                        as_ranges(&found, v4, v6, out);
                    } else {
                        *lookups += 1;
                        let hosts = match dns.mx(target).await {
                            Lookup::Found(h) => h,
                            Lookup::Absent => Vec::new(),
                            Lookup::Failed(why) => {
                                return Err(FlattenError::Lookup(target.to_owned(), why))
                            }
                        };
                        for (_, host) in hosts.iter().take(10) {
                            let found = addresses(dns, host, lookups).await?;
                            as_ranges(&found, v4, v6, out);
                        }
                    }
                }
                ("include", Some(target)) => {
                    *lookups += 1;
                    if *lookups > MAX_LOOKUPS {
                        return Err(FlattenError::TooManyLookups);
                    }
                    let included = spf_of(dns, target).await?;
                    walk(dns, target, &included, out, lookups, depth + 1).await?;
                }
                (other, _) => {
                    return Err(unflattenable(
                        domain,
                        &format!("{other} depends on more than the sending address"),
                    ));
                }
            }
        }
        if let (Some(target), false) = (redirect, ended) {
            *lookups += 1;
            let next = spf_of(dns, &target).await?;
            walk(dns, &target, &next, out, lookups, depth + 1).await?;
        }
        Ok(())
    })
}

/// `ranges` split into chained records named `first`, then `s1.<first>`,
/// `s2.<first>`, ...: (name, text). Each is `v=spf1 <ranges> include:<next>`
/// without `all` (a record that does not match lets the chain go on).
pub fn chain(first: &str, ranges: &[String]) -> Result<Vec<(String, String)>, FlattenError> {
    let name = |i: usize| {
        if i == 0 {
            first.to_owned()
        } else {
            format!("s{i}.{first}")
        }
    };
    let mut parts: Vec<Vec<&str>> = vec![Vec::new()];
    for range in ranges {
        let index = parts.len();
        let room = MAX_RECORD - " include:".len() - name(index).len() - 8;
        let current = parts
            .last_mut()
            .map(|p| p.iter().map(|r| r.len() + 1).sum::<usize>())
            .unwrap_or(0);
        if current + range.len() + 1 > room {
            parts.push(Vec::new());
        }
        if let Some(last) = parts.last_mut() {
            last.push(range);
        }
    }
    if parts.len() > MAX_CHAIN {
        return Err(FlattenError::TooLong);
    }
    let count = parts.len();
    Ok(parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut text = String::from("v=spf1");
            for r in p {
                text.push(' ');
                text.push_str(r);
            }
            if i + 1 < count {
                text.push_str(&format!(" include:{}", name(i + 1)));
            }
            (name(i), text)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_within_the_limits() {
        let ranges: Vec<String> = (0..100).map(|i| format!("ip4:198.51.{}.0/24", i)).collect();
        let records =
            chain("example.com._spf.zone.test", &ranges).unwrap_or_else(|e| panic!("{e}"));
        assert!(records.len() > 1 && records.len() <= MAX_CHAIN);
        assert!(
            records.iter().all(|(_, t)| t.len() <= MAX_RECORD),
            "{records:?}"
        );
        assert_eq!(records[1].0, "s1.example.com._spf.zone.test");
        assert!(records[0]
            .1
            .ends_with(" include:s1.example.com._spf.zone.test"));
        let all: usize = records.iter().map(|(_, t)| t.matches("ip4:").count()).sum();
        assert_eq!(all, 100);
        let too_many: Vec<String> = (0..2000)
            .map(|i| format!("ip6:2001:db8:{i:x}::/48"))
            .collect();
        assert_eq!(
            chain("x._spf.zone.test", &too_many),
            Err(FlattenError::TooLong)
        );
    }

    #[test]
    fn cidr_specs() {
        assert_eq!(
            split_cidr("mail.example.com/24//64"),
            ("mail.example.com", Some(24), Some(64))
        );
        assert_eq!(split_cidr("/28"), ("", Some(28), None));
        assert_eq!(split_cidr(""), ("", None, None));
    }
}

/// The flattened ranges as stored (`flattened_spf`: ClickHouse 0015,
/// SQLite 0009): a row per domain whenever they change, for the alert
/// that tells an owner a provider's ranges moved.
pub mod history {
    use dmarcflow_store::Store;

    use crate::HostedError;

    /// Records `ranges` for `domain` (`version`: microseconds, growing).
    pub async fn record(
        store: &mut Store,
        domain: &str,
        ranges: &[String],
        version: u64,
    ) -> Result<(), HostedError> {
        let b = store.backend();
        let sql = format!(
            "INSERT INTO flattened_spf (domain, ranges, updated_at) VALUES ({}, {}, {version})",
            b.quote(domain),
            b.quote(&ranges.join(" ")),
        );
        store.execute(&sql).await?;
        Ok(())
    }

    /// A change between a domain's two newest rows: what was added and
    /// removed, and when.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Changed {
        pub domain: String,
        pub added: Vec<String>,
        pub removed: Vec<String>,
        /// Microseconds.
        pub at: u64,
    }

    /// Each domain whose newest flattening differs from the one before.
    pub async fn changes(store: &Store) -> Result<Vec<Changed>, HostedError> {
        let b = store.backend();
        let sql = b.latest_per(
            "flattened_spf",
            "domain, ranges, updated_at",
            "domain",
            "updated_at",
            2,
            "1 = 1",
        );
        let mut by_domain: std::collections::BTreeMap<String, Vec<(String, u64)>> =
            Default::default();
        for row in store.query(&sql).await?.rows {
            let Ok([domain, ranges, at]) = <[String; 3]>::try_from(row) else {
                continue;
            };
            by_domain
                .entry(domain)
                .or_default()
                .push((ranges, at.parse().unwrap_or(0)));
        }
        let mut out = Vec::new();
        for (domain, rows) in by_domain {
            let [(new, at), (old, _)] = match rows.as_slice() {
                [a, b] => [a.clone(), b.clone()],
                _ => continue,
            };
            let new: Vec<&str> = new.split_whitespace().collect();
            let old: Vec<&str> = old.split_whitespace().collect();
            let added: Vec<String> = new
                .iter()
                .filter(|r| !old.contains(r))
                .map(|r| (*r).to_owned())
                .collect();
            let removed: Vec<String> = old
                .iter()
                .filter(|r| !new.contains(r))
                .map(|r| (*r).to_owned())
                .collect();
            if !added.is_empty() || !removed.is_empty() {
                out.push(Changed {
                    domain,
                    added,
                    removed,
                    at,
                });
            }
        }
        Ok(out)
    }
}
