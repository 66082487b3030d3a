//! The rules that read the path to enforcement (`dmarcflow_enforce`)
//! rather than one query, and what it adds to the new-source alerts:
//! - `approved_sender_failing`: a sender the owner approved for a domain
//!   fails DMARC in the window (with the catalogue's fix);
//! - `domain_ready`: the domain is ready for its next policy step. Told
//!   once: the condition stays firing while it holds, and its end is not
//!   notified (`Rule::notify_resolution`);
//! - a new source is announced with its sender's name and class.
//!
//! The assessment runs per domain with mail in the window (two small
//! queries each, on the primary key's leading column).

use std::collections::BTreeMap;

use dmarcflow_enforce::{assess, classes_by_address, text, Verdict};
use dmarcflow_store::summary::{day, Scope};
use dmarcflow_store::Store;

use crate::rules::{Condition, Period, Rule, MORE_NEW};
use crate::{AlertError, AlertsConfig};

/// The window as a report scope for `domain`; None for a domain no query
/// may carry (`Scope::new` refuses it).
fn scope(domain: &str, period: &Period) -> Option<Scope> {
    Scope::new(
        domain,
        &day(period.window.0),
        &day(period.window.1 - 86_400),
    )
    .ok()
}

/// The window's scope of every domain with aggregate mail in it.
async fn scopes(store: &Store, period: &Period) -> Result<Vec<Scope>, AlertError> {
    let b = store.backend();
    let sql = format!(
        "SELECT policy_domain FROM aggregate_by_source_daily WHERE day >= {} AND day <= {} \
         GROUP BY policy_domain ORDER BY policy_domain",
        b.day(&day(period.window.0)),
        b.day(&day(period.window.1 - 86_400)),
    );
    let table = store.query(&sql).await?;
    Ok(table
        .rows
        .iter()
        .filter_map(|r| scope(r.first()?, period))
        .collect())
}

/// `approved_sender_failing` and `domain_ready` for every domain.
pub async fn conditions(
    store: &Store,
    config: &AlertsConfig,
    period: &Period,
) -> Result<Vec<Condition>, AlertError> {
    let mut out = Vec::new();
    for scope in scopes(store, period).await? {
        let domain = &scope.domain;
        let t = config.thresholds(domain);
        if t.approved_sender_failing == 0 && t.domain_ready == 0 {
            continue;
        }
        let a = assess(store, &scope, &config.enforcement, &config.catalogue).await?;
        for b in a.blockers.iter().filter(|b| b.approved) {
            if t.approved_sender_failing > 0 && b.messages >= t.approved_sender_failing {
                out.push(Condition {
                    rule: Rule::ApprovedSenderFailing,
                    domain: domain.clone(),
                    subject: b.sender.clone(),
                    message: format!("approved sender failing: {}", b.fix),
                    value: b.messages as f64,
                });
            }
        }
        if t.domain_ready > 0 && a.verdict == Verdict::Ready {
            let step = a.next_step.clone().unwrap_or_default();
            out.push(Condition {
                rule: Rule::DomainReady,
                domain: domain.clone(),
                subject: step.clone(),
                message: format!(
                    "{domain} is ready for its next policy step, {step}: of {} messages from {} to {}, \
                     enforcing would have lost {} of your own and blocked {} unauthorised",
                    dmarcflow_enforce::assessment::group_digits(a.messages),
                    a.from,
                    a.to,
                    text::share(&a.would_lose),
                    text::share(&a.would_block),
                ),
                value: a.messages as f64,
            });
        }
    }
    Ok(out)
}

/// Each new-source alert names its sender and class: `new source
/// 192.0.2.7 (SendGrid, misaligned) sending as example.com: ...`.
pub async fn name_new_sources(
    store: &Store,
    config: &AlertsConfig,
    period: &Period,
    conditions: &mut [Condition],
) -> Result<(), AlertError> {
    let mut by_domain: BTreeMap<String, Vec<&mut Condition>> = BTreeMap::new();
    for c in conditions.iter_mut() {
        if c.rule == Rule::NewSource && c.subject != MORE_NEW {
            by_domain.entry(c.domain.clone()).or_default().push(c);
        }
    }
    for (domain, found) in by_domain {
        let Some(scope) = scope(&domain, period) else {
            continue;
        };
        let classes =
            classes_by_address(store, &scope, &config.enforcement, &config.catalogue).await?;
        for c in found {
            if let Some((name, class)) = classes.get(&c.subject) {
                let name = if name.is_empty() { "unnamed" } else { name };
                let before = format!("new source {} sending", c.subject);
                let after = format!(
                    "new source {} ({name}, {}) sending",
                    c.subject,
                    class.as_str()
                );
                c.message = c.message.replacen(&before, &after, 1);
            }
        }
    }
    Ok(())
}
