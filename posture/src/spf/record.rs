//! One SPF record's terms (RFC 7208 4.6.1, 5, 6), unknown modifiers and
//! malformed terms kept as written.

use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    pub fn symbol(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    All(Qualifier),
    Include(Qualifier, String),
    /// `a`, with its domain (None: the record's own).
    A(Qualifier, Option<String>),
    Mx(Qualifier, Option<String>),
    Ptr(Qualifier, Option<String>),
    Exists(Qualifier, String),
    Ip4(Qualifier),
    Ip6(Qualifier),
    Redirect(String),
    Exp(String),
    /// A modifier RFC 7208 does not define (ignored by receivers).
    UnknownModifier(String),
    /// A term that is not SPF: receivers fail the record (permerror).
    Invalid(String),
}

impl Term {
    /// Whether evaluating it costs one of the ten DNS lookups (4.6.4).
    pub fn looks_up(&self) -> bool {
        matches!(
            self,
            Term::Include(..)
                | Term::A(..)
                | Term::Mx(..)
                | Term::Ptr(..)
                | Term::Exists(..)
                | Term::Redirect(_)
        )
    }
}

/// Whether a TXT record is an SPF record (`v=spf1` alone or followed by a
/// space, case-insensitively: 4.5).
pub fn is_spf(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower == "v=spf1" || lower.starts_with("v=spf1 ")
}

/// The terms of an SPF record (the `v=spf1` version skipped).
pub fn parse(record: &str) -> Vec<Term> {
    record.split_ascii_whitespace().skip(1).map(term).collect()
}

fn term(text: &str) -> Term {
    let lower = text.to_ascii_lowercase();
    if let Some((name, value)) = lower.split_once('=') {
        let is_name = !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if is_name && !name.contains(':') {
            return match name {
                "redirect" if valid_domain_spec(value) => Term::Redirect(value.to_owned()),
                "exp" if valid_domain_spec(value) => Term::Exp(value.to_owned()),
                "redirect" | "exp" => Term::Invalid(text.to_owned()),
                _ => Term::UnknownModifier(text.to_owned()),
            };
        }
    }
    let (qualifier, rest) = match lower.chars().next() {
        Some('+') => (Qualifier::Pass, &lower[1..]),
        Some('-') => (Qualifier::Fail, &lower[1..]),
        Some('~') => (Qualifier::SoftFail, &lower[1..]),
        Some('?') => (Qualifier::Neutral, &lower[1..]),
        _ => (Qualifier::Pass, lower.as_str()),
    };
    let (name, argument) = match rest.find([':', '/']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let domain = |argument: Option<&str>| -> Result<Option<String>, ()> {
        match argument {
            None => Ok(None),
            Some(a) if a.starts_with('/') => valid_cidr(a).then_some(None).ok_or(()),
            Some(a) => {
                let a = &a[1..];
                let (spec, cidr) = match a.find('/') {
                    Some(i) => (&a[..i], Some(&a[i..])),
                    None => (a, None),
                };
                if valid_domain_spec(spec) && cidr.is_none_or(valid_cidr) {
                    Ok(Some(spec.to_owned()))
                } else {
                    Err(())
                }
            }
        }
    };
    let required = |argument: Option<&str>| -> Option<String> {
        let spec = argument?.strip_prefix(':')?;
        valid_domain_spec(spec).then(|| spec.to_owned())
    };
    let invalid = || Term::Invalid(text.to_owned());
    match name {
        "all" if argument.is_none() => Term::All(qualifier),
        "include" => required(argument).map_or_else(invalid, |d| Term::Include(qualifier, d)),
        "exists" => required(argument).map_or_else(invalid, |d| Term::Exists(qualifier, d)),
        "a" => domain(argument).map_or_else(|()| invalid(), |d| Term::A(qualifier, d)),
        "mx" => domain(argument).map_or_else(|()| invalid(), |d| Term::Mx(qualifier, d)),
        "ptr" => match argument {
            None => Term::Ptr(qualifier, None),
            Some(_) => required(argument).map_or_else(invalid, |d| Term::Ptr(qualifier, Some(d))),
        },
        "ip4" => match argument.and_then(|a| a.strip_prefix(':')) {
            Some(a) if valid_ip::<Ipv4Addr>(a, 32) => Term::Ip4(qualifier),
            _ => invalid(),
        },
        "ip6" => match argument.and_then(|a| a.strip_prefix(':')) {
            Some(a) if valid_ip::<Ipv6Addr>(a, 128) => Term::Ip6(qualifier),
            _ => invalid(),
        },
        _ => invalid(),
    }
}

fn valid_ip<T: std::str::FromStr>(text: &str, max: u8) -> bool {
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    address.parse::<T>().is_ok() && prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= max))
}

/// `/24`, `//64` or `/24//64`.
fn valid_cidr(text: &str) -> bool {
    let ok = |p: &str, max: u8| p.parse::<u8>().is_ok_and(|p| p <= max);
    match text.strip_prefix("//") {
        Some(v6) => ok(v6, 128),
        None => match text.strip_prefix('/') {
            Some(rest) => match rest.split_once("//") {
                Some((v4, v6)) => ok(v4, 32) && ok(v6, 128),
                None => ok(rest, 32),
            },
            None => false,
        },
    }
}

/// A domain name, possibly with macros (`%{d}`); checked loosely: no
/// spaces, no empty labels, at least one dot or a macro.
fn valid_domain_spec(spec: &str) -> bool {
    !spec.is_empty()
        && !spec.contains(char::is_whitespace)
        && (spec.contains('.') || spec.contains('%'))
        && !spec.trim_end_matches('.').split('.').any(str::is_empty)
}

/// Whether a domain spec has macros (it cannot be expanded without a
/// message, so it is counted but not followed).
pub fn has_macros(spec: &str) -> bool {
    spec.contains('%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_of_a_record() {
        let terms = parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com/24 ptr include:_spf.example.net exists:%{i}.x.example.com ~all redirect=_spf.example.org exp=explain.example.org foo=bar");
        assert_eq!(
            terms,
            [
                Term::Ip4(Qualifier::Pass),
                Term::Ip6(Qualifier::Pass),
                Term::A(Qualifier::Pass, None),
                Term::Mx(Qualifier::Pass, Some("mail.example.com".into())),
                Term::Ptr(Qualifier::Pass, None),
                Term::Include(Qualifier::Pass, "_spf.example.net".into()),
                Term::Exists(Qualifier::Pass, "%{i}.x.example.com".into()),
                Term::All(Qualifier::SoftFail),
                Term::Redirect("_spf.example.org".into()),
                Term::Exp("explain.example.org".into()),
                Term::UnknownModifier("foo=bar".into()),
            ]
        );
        assert_eq!(terms.iter().filter(|t| t.looks_up()).count(), 6);
    }

    #[test]
    fn malformed_terms_are_kept() {
        let terms = parse("v=spf1 ip4:300.1.1.1 include: a:/33 mx/24 allow +all");
        assert_eq!(
            terms,
            [
                Term::Invalid("ip4:300.1.1.1".into()),
                Term::Invalid("include:".into()),
                Term::Invalid("a:/33".into()),
                Term::Mx(Qualifier::Pass, None),
                Term::Invalid("allow".into()),
                Term::All(Qualifier::Pass),
            ]
        );
        assert!(is_spf("v=spf1 -all") && is_spf("V=SPF1") && !is_spf("v=spf10 -all"));
    }
}
