//! What a check takes from the store: the domains reports are about, the
//! DKIM selectors seen signing for each (what a receiver will look up, so
//! what must stay published), and the enforcement verdicts of its report
//! data (`dmarcflow_enforce`: DMARC from the aggregate reports, MTA-STS
//! from the TLS reports).

use std::collections::BTreeMap;

use dmarcflow_enforce::{assess, EnforcementConfig};
use dmarcflow_posture::FromReports;
use dmarcflow_senders::SenderMap;
use dmarcflow_store::summary::{day, Scope};
use dmarcflow_store::Store;

use crate::WatchError;

/// Selectors kept per domain, the most used first (a domain rotating keys
/// shows a few; a hostile report could name thousands).
pub const MAX_SELECTORS: usize = 10;

/// Every domain with aggregate or TLS reports since `since` (Unix
/// seconds), sorted.
pub async fn domains(store: &Store, since: i64) -> Result<Vec<String>, WatchError> {
    let sql = domains_sql(store.backend(), since);
    let mut out: Vec<String> = store
        .query(&sql)
        .await?
        .rows
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .filter(|d| !d.is_empty())
        .map(|d| d.to_ascii_lowercase())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The query behind [`domains`].
pub fn domains_sql(backend: dmarcflow_store::summary::Backend, since: i64) -> String {
    let from = backend.day(&day(since));
    format!(
        "SELECT policy_domain FROM aggregate_by_source_daily WHERE day >= {from} GROUP BY policy_domain \
         UNION ALL SELECT policy_domain FROM tlsrpt_by_result_daily WHERE day >= {from} GROUP BY policy_domain"
    )
}

/// The query behind [`selectors`]: each (domain, selector) of signatures
/// whose `d=` is the reported domain itself, with its messages.
pub fn selectors_sql(backend: dmarcflow_store::summary::Backend, since: i64) -> String {
    let pairs = backend.array_pairs(
        "aggregate_records",
        &["policy_domain", "message_count"],
        "dkim_domains",
        "dkim_selectors",
        &format!("date_begin >= {}", backend.time(since)),
    );
    format!(
        "SELECT policy_domain, dkim_selectors_item AS selector, sum(message_count) AS messages \
         FROM ({pairs}) AS signatures \
         WHERE lower(dkim_domains_item) = lower(policy_domain) AND dkim_selectors_item != '' \
         GROUP BY policy_domain, dkim_selectors_item ORDER BY policy_domain, messages DESC"
    )
}

/// Per domain (lower case), the selectors seen signing as it since
/// `since`, the most used first, at most [`MAX_SELECTORS`].
pub async fn selectors(
    store: &Store,
    since: i64,
) -> Result<BTreeMap<String, Vec<String>>, WatchError> {
    let table = store.query(&selectors_sql(store.backend(), since)).await?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in table.rows {
        let [domain, selector, _] = <[String; 3]>::try_from(row).unwrap_or_default();
        let selector = selector.trim().to_ascii_lowercase();
        // A selector is a DNS label sequence; anything else is not looked up.
        let plain = !selector.is_empty()
            && selector.len() <= 63
            && selector
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        let list = out.entry(domain.to_ascii_lowercase()).or_default();
        if plain && list.len() < MAX_SELECTORS && !list.contains(&selector) {
            list.push(selector);
        }
    }
    Ok(out)
}

/// The enforcement verdict of `domain`'s reports over the `days` before
/// `now`; None when it has no aggregate mail in them.
pub async fn enforcement(
    store: &Store,
    domain: &str,
    days: u32,
    now: i64,
    config: &EnforcementConfig,
    catalogue: &SenderMap,
) -> Result<Option<FromReports>, WatchError> {
    let from = day(now - i64::from(days.max(1)) * 86_400);
    let Ok(scope) = Scope::new(domain, &from, &day(now)) else {
        return Ok(None);
    };
    let assessment = assess(store, &scope, config, catalogue).await?;
    let sts = dmarcflow_enforce::mta_sts::assess(store, &scope, config).await?;
    let has_sts = sts.verdict != dmarcflow_enforce::StsVerdict::NoPolicy;
    if assessment.messages == 0 && !has_sts {
        return Ok(None);
    }
    let dmarc = assessment.messages > 0;
    Ok(Some(FromReports {
        verdict: if dmarc {
            assessment.verdict.as_str().to_owned()
        } else {
            String::new()
        },
        next_step: assessment.next_step.clone().filter(|_| dmarc),
        mta_sts_verdict: has_sts.then(|| sts.verdict.as_str().to_owned()),
        mta_sts: has_sts.then(|| sts.summary()),
    }))
}
