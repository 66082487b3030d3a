//! SPF (RFC 7208): the domain's record and the whole tree it pulls in,
//! walked as a receiver would, counting what a receiver counts: the DNS
//! lookups of `include`, `a`, `mx`, `ptr`, `exists` and `redirect` (at most
//! 10, 4.6.4) and the void lookups among them (at most 2).
//!
//! What is bounded: the walk follows at most [`MAX_FOLLOWED_LOOKUPS`]
//! lookups and [`MAX_DEPTH`] levels of includes, so a hostile tree (an
//! include chain of a thousand names) costs a fixed number of queries;
//! past the bound the count is a lower one and the finding says so.
//! Terms with macros (`%{i}`) cannot be expanded without a message: they
//! are counted, not followed.

pub mod record;

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::dns::{Dns, Lookup};
use crate::finding::Finding;
use record::{Qualifier, Term};

/// Lookups the walk follows before it stops.
pub const MAX_FOLLOWED_LOOKUPS: usize = 30;
/// Nested includes the walk follows.
pub const MAX_DEPTH: usize = 10;
/// RFC 7208 4.6.4.
pub const LOOKUP_LIMIT: usize = 10;
pub const VOID_LOOKUP_LIMIT: usize = 2;
/// RFC 7208 3.4: records beyond this may not fit a UDP answer.
pub const RECORD_LENGTH_LIMIT: usize = 450;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Spf {
    pub record: Option<String>,
    /// DNS lookups a receiver makes evaluating the whole tree.
    pub lookups: usize,
    pub void_lookups: usize,
    /// The record's `all` (`-all`, `~all`, `?all`, `+all`), if any.
    pub all: Option<String>,
    /// Every lookup term of the tree, depth first.
    pub tree: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub depth: usize,
    /// The term as a receiver sees it (`include:_spf.example.com`).
    pub term: String,
    /// What the walk made of it, when not a plain lookup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

struct Walk<'a, D> {
    dns: &'a D,
    spf: Spf,
    findings: Vec<Finding>,
    /// Past the bound: lookups are still counted, no longer followed.
    stopped: bool,
}

/// Checks `domain`'s SPF record and its tree.
pub async fn check(dns: &impl Dns, domain: &str, findings: &mut Vec<Finding>) -> Spf {
    let records = match dns.txt(domain).await {
        Lookup::Found(texts) => texts.into_iter().filter(|t| record::is_spf(t)).collect(),
        Lookup::Absent => Vec::new(),
        Lookup::Failed(why) => {
            findings.push(Finding::critical(
                "spf.lookup_failed",
                format!("the SPF record could not be looked up: {why}"),
            ));
            return Spf::default();
        }
    };
    let record = match records.as_slice() {
        [] => {
            findings.push(Finding::critical(
                "spf.missing",
                format!("{domain} publishes no SPF record: publish one listing the hosts that send as {domain} (or \"v=spf1 -all\" if it sends no mail)"),
            ));
            return Spf::default();
        }
        [one] => one.clone(),
        _ => {
            findings.push(Finding::critical(
                "spf.multiple",
                format!(
                    "{domain} has {} SPF records: receivers return permerror; merge them into one",
                    records.len()
                ),
            ));
            return Spf::default();
        }
    };
    let mut walk = Walk {
        dns,
        spf: Spf::default(),
        findings: Vec::new(),
        stopped: false,
    };
    let terms = record::parse(&record);
    walk.spf.all = terms.iter().find_map(|t| match t {
        Term::All(q) => Some(format!("{}all", q.symbol())),
        _ => None,
    });
    let has_redirect = terms.iter().any(|t| matches!(t, Term::Redirect(_)));
    walk.record(domain.to_owned(), terms, 0, vec![domain.to_owned()])
        .await;
    let mut spf = walk.spf;
    findings.append(&mut walk.findings);
    if spf.lookups > LOOKUP_LIMIT {
        let more = if walk.stopped { "more than " } else { "" };
        findings.push(Finding::critical(
            "spf.lookup_limit",
            format!("{domain}'s SPF needs {more}{} DNS lookups (limit {LOOKUP_LIMIT}): receivers return permerror and SPF fails for all its mail", spf.lookups),
        ));
    }
    if spf.void_lookups > VOID_LOOKUP_LIMIT {
        findings.push(Finding::critical(
            "spf.void_lookup_limit",
            format!("{domain}'s SPF makes {} void lookups (limit {VOID_LOOKUP_LIMIT}): receivers return permerror", spf.void_lookups),
        ));
    }
    match spf.all.as_deref() {
        Some("+all") => findings.push(Finding::critical(
            "spf.all_pass",
            format!("{domain}'s SPF ends in +all: every host on the internet passes"),
        )),
        Some("?all") => findings.push(Finding::warning(
            "spf.all_neutral",
            format!("{domain}'s SPF ends in ?all: hosts it does not list are neutral, not failing"),
        )),
        None if !has_redirect => findings.push(Finding::warning(
            "spf.no_all",
            format!("{domain}'s SPF has no all term: hosts it does not list are neutral; end it with ~all or -all"),
        )),
        _ => {}
    }
    if record.len() > RECORD_LENGTH_LIMIT {
        findings.push(Finding::warning(
            "spf.too_long",
            format!("{domain}'s SPF record is {} bytes (RFC 7208 3.4 advises at most {RECORD_LENGTH_LIMIT}): its answer may not fit in UDP", record.len()),
        ));
    }
    spf.record = Some(record);
    spf
}

type Step<'b> = Pin<Box<dyn Future<Output = ()> + Send + 'b>>;

impl<'a, D: Dns> Walk<'a, D> {
    /// Walks one record's terms; `chain` is the names from the root to it.
    fn record(
        &mut self,
        name: String,
        terms: Vec<Term>,
        depth: usize,
        chain: Vec<String>,
    ) -> Step<'_> {
        Box::pin(async move {
            let has_all = terms.iter().any(|t| matches!(t, Term::All(_)));
            for term in terms {
                self.term(&name, term, depth, &chain, has_all).await;
            }
        })
    }

    async fn term(
        &mut self,
        name: &str,
        term: Term,
        depth: usize,
        chain: &[String],
        has_all: bool,
    ) {
        if let Term::Invalid(text) = &term {
            self.findings.push(Finding::critical(
                "spf.syntax",
                format!("{name}'s SPF has {text:?}, not an SPF term: receivers return permerror"),
            ));
            return;
        }
        if let Term::Ptr(..) = term {
            self.findings.push(Finding::warning(
                "spf.ptr",
                format!("{name}'s SPF uses ptr, which RFC 7208 5.5 says not to use (slow, unreliable, ignored by some receivers)"),
            ));
        }
        if !term.looks_up() {
            return;
        }
        self.spf.lookups += 1;
        let text = describe(&term, name);
        let node = self.spf.tree.len();
        self.spf.tree.push(Node {
            depth,
            term: text,
            note: None,
        });
        if self.stopped || self.spf.lookups > MAX_FOLLOWED_LOOKUPS || depth >= MAX_DEPTH {
            self.stopped = true;
            self.note(node, "not followed (the walk's bound)");
            return;
        }
        let target = match &term {
            Term::Include(_, d) | Term::Exists(_, d) | Term::Redirect(d) => d.clone(),
            Term::A(_, d) | Term::Mx(_, d) | Term::Ptr(_, d) => {
                d.clone().unwrap_or_else(|| name.to_owned())
            }
            _ => return,
        };
        if record::has_macros(&target) {
            self.note(node, "has macros: counted, not followed");
            return;
        }
        match term {
            Term::Include(..) | Term::Redirect(_) => {
                if matches!(term, Term::Redirect(_)) && has_all {
                    self.note(node, "ignored: the record has an all term");
                    return;
                }
                self.follow(node, &target, depth, chain).await;
            }
            Term::A(..) | Term::Exists(..) => match self.dns.addresses(&target).await {
                Lookup::Found(_) => {}
                Lookup::Absent => self.void(node),
                Lookup::Failed(why) => self.failed(node, why),
            },
            Term::Mx(..) => match self.dns.mx(&target).await {
                Lookup::Found(hosts) if hosts.len() > 10 => {
                    self.findings.push(Finding::critical(
                        "spf.mx_too_many",
                        format!("{name}'s SPF uses mx:{target}, which has {} MX hosts (limit 10): receivers return permerror", hosts.len()),
                    ));
                }
                Lookup::Found(_) => {}
                Lookup::Absent => self.void(node),
                Lookup::Failed(why) => self.failed(node, why),
            },
            _ => {}
        }
    }

    /// An include or redirect: the target's record, walked one level down.
    async fn follow(&mut self, node: usize, target: &str, depth: usize, chain: &[String]) {
        if chain.iter().any(|c| c == target) {
            self.note(node, "loop");
            self.findings.push(Finding::critical(
                "spf.loop",
                format!("SPF include loop: {} -> {target}", chain.join(" -> ")),
            ));
            return;
        }
        let records: Vec<String> = match self.dns.txt(target).await {
            Lookup::Found(texts) => texts.into_iter().filter(|t| record::is_spf(t)).collect(),
            Lookup::Absent => {
                self.void(node);
                Vec::new()
            }
            Lookup::Failed(why) => return self.failed(node, why),
        };
        match records.as_slice() {
            [] => {
                if self.spf.tree[node].note.is_none() {
                    self.note(node, "no SPF record");
                }
                self.findings.push(Finding::critical(
                    "spf.include_missing",
                    format!("{} points at {target}, which has no SPF record: receivers return permerror", self.spf.tree[node].term),
                ));
            }
            [one] => {
                let mut chain = chain.to_vec();
                chain.push(target.to_owned());
                let terms = record::parse(one);
                self.record(target.to_owned(), terms, depth + 1, chain)
                    .await;
            }
            _ => {
                self.note(node, "several SPF records");
                self.findings.push(Finding::critical(
                    "spf.multiple",
                    format!(
                        "{target} has {} SPF records: receivers return permerror",
                        records.len()
                    ),
                ));
            }
        }
    }

    fn note(&mut self, node: usize, note: &str) {
        self.spf.tree[node].note = Some(note.to_owned());
    }

    fn void(&mut self, node: usize) {
        self.spf.void_lookups += 1;
        self.note(node, "void lookup (no such name or no records)");
    }

    fn failed(&mut self, node: usize, why: String) {
        self.note(node, "no answer");
        self.findings.push(Finding::warning(
            "spf.lookup_failed",
            format!(
                "{} could not be looked up: {why} (receivers return temperror)",
                self.spf.tree[node].term
            ),
        ));
    }
}

/// A lookup term as written (`include:x`, `a`, `mx:y`).
fn describe(term: &Term, _name: &str) -> String {
    let q = |q: &Qualifier| match q {
        Qualifier::Pass => String::new(),
        other => other.symbol().to_string(),
    };
    let with = |q: String, kind: &str, d: &Option<String>| match d {
        Some(d) => format!("{q}{kind}:{d}"),
        None => format!("{q}{kind}"),
    };
    match term {
        Term::Include(qu, d) => format!("{}include:{d}", q(qu)),
        Term::Exists(qu, d) => format!("{}exists:{d}", q(qu)),
        Term::Redirect(d) => format!("redirect={d}"),
        Term::A(qu, d) => with(q(qu), "a", d),
        Term::Mx(qu, d) => with(q(qu), "mx", d),
        Term::Ptr(qu, d) => with(q(qu), "ptr", d),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
