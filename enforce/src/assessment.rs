//! A domain's readiness for the next policy step, over a window.
//!
//! Each group of its mail is classified ([`crate::class`]); the messages
//! that fail DMARC are what the next step (`quarantine`, then `reject`)
//! would hit, split by whose they are:
//! - `would_lose`: the owner's own mail (`misaligned`: a platform or an
//!   approved sender not yet aligned). `aligned` mail never fails.
//! - `would_block`: `unauthorised` mail, which enforcement is for.
//! - `forwarded`: mail a forwarder or list broke, shown apart (not the
//!   owner's to fix; ARC and the lists' own rewriting are).
//!
//! The verdict: `enforced` once `p=reject` applies everywhere; else `ready`
//! when the owner's mail lost is at most `max_lost_share` of the domain's
//! messages and no approved sender fails, `not_ready` otherwise. The
//! blockers are the senders to fix first, each with its volume and the fix
//! the catalogue gives for it.

use std::collections::BTreeMap;

use dmarcflow_senders::SenderMap;
use dmarcflow_store::summary::Scope;
use dmarcflow_store::{Store, StoreError};
use serde::Serialize;

use crate::class::SourceClass;
use crate::traffic::Key;
use crate::{policy, traffic, EnforcementConfig, Policy, Traffic};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ready,
    NotReady,
    Enforced,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NotReady => "not_ready",
            Self::Enforced => "enforced",
        }
    }
}

/// Messages, and their share of the domain's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Share {
    pub messages: u64,
    pub share: f64,
}

/// A sender to fix before the next step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub sender: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Its messages failing DMARC.
    pub messages: u64,
    /// The owner listed it among the domain's approved senders.
    pub approved: bool,
    pub fix: String,
}

/// A sender's mail in one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SenderClass {
    pub sender: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub class: SourceClass,
    pub messages: u64,
    /// Of those, failing DMARC.
    pub failing: u64,
    pub sources: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub domain: String,
    pub from: String,
    pub to: String,
    pub policy: Policy,
    pub verdict: Verdict,
    pub messages: u64,
    pub would_lose: Share,
    pub would_block: Share,
    pub forwarded: Share,
    pub next_step: Option<String>,
    pub blockers: Vec<Blocker>,
    pub senders: Vec<SenderClass>,
}

/// `scope`'s domain assessed from the store.
pub async fn assess(
    store: &Store,
    scope: &Scope,
    config: &EnforcementConfig,
    catalogue: &SenderMap,
) -> Result<Assessment, StoreError> {
    let policy = policy::load(store, scope).await?;
    let traffic = traffic::load(store, scope, Key::Sender, catalogue).await?;
    Ok(judge(scope, policy, &traffic, config, catalogue))
}

/// Each source address of `scope`'s domain: its sender's name ('' when
/// unknown) and the class of most of its messages.
pub async fn classes_by_address(
    store: &Store,
    scope: &Scope,
    config: &EnforcementConfig,
    catalogue: &SenderMap,
) -> Result<BTreeMap<String, (String, SourceClass)>, StoreError> {
    let traffic = traffic::load(store, scope, Key::Address, catalogue).await?;
    let mut volume: BTreeMap<(String, SourceClass), (String, u64)> = BTreeMap::new();
    for t in &traffic {
        let entry = volume
            .entry((t.sender.clone(), t.class(&scope.domain, config)))
            .or_insert_with(|| (t.name.clone(), 0));
        entry.1 += t.messages;
    }
    let mut out: BTreeMap<String, (String, SourceClass, u64)> = BTreeMap::new();
    for ((address, class), (name, messages)) in volume {
        let best = out
            .entry(address)
            .or_insert_with(|| (name.clone(), class, 0));
        if messages > best.2 {
            *best = (name, class, messages);
        }
    }
    Ok(out
        .into_iter()
        .map(|(address, (name, class, _))| (address, (name, class)))
        .collect())
}

/// The assessment of `traffic` under `policy` (no I/O).
pub fn judge(
    scope: &Scope,
    policy: Policy,
    traffic: &[Traffic],
    config: &EnforcementConfig,
    catalogue: &SenderMap,
) -> Assessment {
    let domain = &scope.domain;
    let mut by_sender: BTreeMap<(String, SourceClass), SenderClass> = BTreeMap::new();
    let mut signed: BTreeMap<String, String> = BTreeMap::new();
    let (mut total, mut lose, mut block, mut forwarded) = (0, 0, 0, 0);
    // Per sender and class, the sources of each group (a group keyed by an
    // address the catalogue named joins its sender's).
    let mut sources: BTreeMap<(String, SourceClass), BTreeMap<&str, u64>> = BTreeMap::new();
    for t in traffic {
        let who = t.who().to_owned();
        let class = t.class(domain, config);
        let failing = if t.dkim_aligned || t.spf_aligned {
            0
        } else {
            t.messages
        };
        total += t.messages;
        match class {
            SourceClass::Misaligned => lose += failing,
            SourceClass::Unauthorised => block += failing,
            SourceClass::Forwarded => forwarded += failing,
            SourceClass::Aligned => {}
        }
        if let Some(d) = t
            .signed_by()
            .filter(|d| failing > 0 && !d.ends_with(domain.as_str()))
        {
            signed.entry(who.clone()).or_insert_with(|| d.to_owned());
        }
        let entry = by_sender
            .entry((who.clone(), class))
            .or_insert_with(|| SenderClass {
                sender: who.clone(),
                kind: t.kind.clone(),
                class,
                messages: 0,
                failing: 0,
                sources: 0,
            });
        entry.messages += t.messages;
        entry.failing += failing;
        let seen = sources.entry((who.clone(), class)).or_default();
        let n = seen.entry(t.sender.as_str()).or_default();
        *n = (*n).max(t.sources);
    }
    for (key, seen) in sources {
        if let Some(entry) = by_sender.get_mut(&key) {
            entry.sources = seen.values().sum();
        }
    }
    let share = |messages: u64| Share {
        messages,
        share: if total == 0 {
            0.0
        } else {
            messages as f64 / total as f64
        },
    };
    let mut senders: Vec<SenderClass> = by_sender.into_values().collect();
    senders.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.sender.cmp(&b.sender)));
    let mut blockers: Vec<Blocker> = senders
        .iter()
        .filter(|s| s.class == SourceClass::Misaligned && s.failing > 0)
        .map(|s| Blocker {
            sender: s.sender.clone(),
            kind: s.kind.clone(),
            messages: s.failing,
            approved: config.approves(domain, &s.sender),
            fix: fix(s, domain, signed.get(&s.sender), catalogue),
        })
        .collect();
    blockers.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.sender.cmp(&b.sender)));
    let would_lose = share(lose);
    let verdict = if policy.enforced() {
        Verdict::Enforced
    } else if total > 0
        && would_lose.share <= config.max_lost_share
        && !blockers.iter().any(|b| b.approved)
    {
        Verdict::Ready
    } else {
        Verdict::NotReady
    };
    Assessment {
        domain: domain.clone(),
        from: scope.from.clone(),
        to: scope.to.clone(),
        next_step: policy.next_step(),
        policy,
        verdict,
        messages: total,
        would_lose,
        would_block: share(block),
        forwarded: share(forwarded),
        blockers,
        senders,
    }
}

/// What to do about a sender's failing mail: the catalogue's way to align
/// it, or the general one.
fn fix(s: &SenderClass, domain: &str, signed: Option<&String>, catalogue: &SenderMap) -> String {
    let signed = signed.map(|d| format!(" signed d={d}")).unwrap_or_default();
    let head = format!(
        "{} sends {} messages as {domain}{signed} that fail DMARC",
        s.sender,
        group_digits(s.failing)
    );
    match catalogue.by_name(&s.sender) {
        Some(entry) => {
            let how = entry
                .align
                .as_deref()
                .unwrap_or("align its mail with the domain");
            match entry.docs.as_deref() {
                Some(docs) => format!("{head}: {how}, see {docs}"),
                None => format!("{head}: {how}"),
            }
        }
        None => format!(
            "{head}: sign its mail with a DKIM key of {domain} (or send it through a service \
             that does), or list its servers in {domain}'s SPF and use a bounce address of {domain}"
        ),
    }
}

/// 12310 as `12,310`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
