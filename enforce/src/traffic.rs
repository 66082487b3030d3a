//! A domain's mail over a window, grouped by what classifies it: the
//! sender (the name enrichment gave the source, else its address), its
//! type, the policy-evaluated and the raw DKIM and SPF outcomes, and
//! whether the receiver said it was forwarded. One query, both dialects;
//! the groups are few (senders times outcomes) however many records.

use dmarcflow_senders::{SenderKind, SenderMap};
use dmarcflow_store::summary::{Backend, Scope};
use dmarcflow_store::{Store, StoreError};

use crate::class::{classify, SourceClass};
use crate::EnforcementConfig;

/// How the groups are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// By sender: its name, or its address where none is known.
    Sender,
    /// By source address (`name` then holds the sender's name, if any).
    Address,
}

/// One group of a domain's mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traffic {
    /// The sender's name or the source address, as the groups are keyed.
    pub sender: String,
    /// The sender's name ('' when unknown).
    pub name: String,
    /// The sender's type as enrichment gave it ('' when unknown).
    pub kind: String,
    /// Policy-evaluated DKIM passed (aligned).
    pub dkim_aligned: bool,
    /// Policy-evaluated SPF passed (aligned).
    pub spf_aligned: bool,
    /// A DKIM signature passed, for whatever domain.
    pub dkim_pass: bool,
    /// SPF passed, for whatever domain.
    pub spf_pass: bool,
    /// The receiver overrode the policy as forwarded, mailing list or local
    /// policy.
    pub forwarding_reason: bool,
    /// The domains of its DKIM signatures and of its SPF checks: the
    /// blockers' `signed d=`, and the catalogue's DKIM and bounce domains
    /// that name a sender the store has no name for.
    pub dkim_domains: Vec<String>,
    pub spf_domains: Vec<String>,
    pub messages: u64,
    /// Distinct source addresses.
    pub sources: u64,
}

/// The override reasons that say a message was resent by someone else.
pub(crate) const FORWARDING: [&str; 4] = [
    "forwarded",
    "trusted_forwarder",
    "mailing_list",
    "local_policy",
];

/// The query for `scope`'s domain and days.
pub fn sql(backend: Backend, scope: &Scope, key: Key) -> String {
    let (start, end) = scope.times(backend);
    let fwd = FORWARDING
        .map(|r| backend.array_has("reason_types", r))
        .join(" OR ");
    format!(
        // Aliases apart from the columns (ClickHouse would substitute an
        // alias named like a column inside the other expressions).
        "SELECT {sender_key} AS sender_key, max(source_name) AS sender_name, \
         source_type AS sender_kind, \
         (dkim = 'pass') AS a_dkim, (spf = 'pass') AS a_spf, \
         {dkim_pass} AS p_dkim, {spf_pass} AS p_spf, ({fwd}) AS fwd, \
         max({all_d}) AS d_all, max({all_s}) AS s_all, \
         sum(message_count) AS msgs, \
         count(DISTINCT source_ip) AS addrs \
         FROM aggregate_records WHERE policy_domain = '{domain}' \
         AND date_begin >= {start} AND date_begin < {end} \
         GROUP BY sender_key, sender_kind, a_dkim, a_spf, p_dkim, p_spf, fwd \
         ORDER BY msgs DESC, sender_key",
        sender_key = match key {
            Key::Sender => format!(
                "CASE WHEN source_name = '' THEN {} ELSE source_name END",
                backend.ip_text("source_ip")
            ),
            Key::Address => backend.ip_text("source_ip"),
        },
        dkim_pass = backend.array_has("dkim_results", "pass"),
        spf_pass = backend.array_has("spf_results", "pass"),
        all_d = backend.text("dkim_domains"),
        all_s = backend.text("spf_domains"),
        domain = scope.domain,
    )
}

/// The domain's mail in `scope`, biggest groups first, each group the
/// store has no sender name for named by `catalogue` where it can be.
pub async fn load(
    store: &Store,
    scope: &Scope,
    key: Key,
    catalogue: &SenderMap,
) -> Result<Vec<Traffic>, StoreError> {
    let table = store.query(&sql(store.backend(), scope, key)).await?;
    Ok(table
        .rows
        .iter()
        .map(|row| {
            let mut t = parse(row);
            t.name_from(catalogue);
            t
        })
        .collect())
}

fn parse(row: &[String]) -> Traffic {
    let text = |i: usize| row.get(i).cloned().unwrap_or_default();
    let flag = |i: usize| row.get(i).is_some_and(|v| v == "1" || v == "true");
    let number = |i: usize| row.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
    Traffic {
        sender: text(0),
        name: text(1),
        kind: text(2),
        dkim_aligned: flag(3),
        spf_aligned: flag(4),
        dkim_pass: flag(5),
        spf_pass: flag(6),
        forwarding_reason: flag(7),
        dkim_domains: list(&text(8)),
        spf_domains: list(&text(9)),
        messages: number(10),
        sources: number(11),
    }
}

/// An array column as text, either store's (`['a','b']`, `["a","b"]`).
fn list(text: &str) -> Vec<String> {
    text.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|d| {
            d.trim()
                .trim_matches(|c| c == '\'' || c == '"')
                .to_ascii_lowercase()
        })
        .filter(|d| !d.is_empty())
        .collect()
}

impl Traffic {
    /// Who sent it: the sender's name, else the group's key (its address).
    pub fn who(&self) -> &str {
        if self.name.is_empty() {
            &self.sender
        } else {
            &self.name
        }
    }

    /// The first DKIM `d=` the mail carried, if any.
    pub fn signed_by(&self) -> Option<&str> {
        self.dkim_domains.first().map(String::as_str)
    }

    /// Its class, given who the owner of `domain` approves (and the
    /// sender's type: whether it is a platform).
    pub fn class(&self, domain: &str, config: &EnforcementConfig) -> SourceClass {
        let platform = SenderKind::parse(&self.kind).is_platform();
        classify(self, platform, config.approves(domain, self.who()))
    }

    /// A sender the store has no name for, named by the catalogue from its
    /// passing mail's DKIM or bounce domains (a platform signs and bounces
    /// with its own): enrichment's record signals, for mail stored without
    /// enrichment.
    fn name_from(&mut self, catalogue: &SenderMap) {
        if !self.name.is_empty() {
            return;
        }
        let by_dkim = || {
            self.dkim_domains
                .iter()
                .find_map(|d| catalogue.signing(d))
                .filter(|_| self.dkim_pass)
        };
        let by_spf = || {
            self.spf_domains
                .iter()
                .find_map(|d| catalogue.bouncing(d))
                .filter(|_| self.spf_pass)
        };
        if let Some(sender) = by_dkim().or_else(by_spf) {
            self.name = sender.name.clone();
            self.kind = sender.kind.as_str().to_owned();
        }
    }
}
