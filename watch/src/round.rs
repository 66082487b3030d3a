//! One round of the watch: every domain the reports of the last
//! `report_days` name and every configured one, each with the DKIM
//! selectors its reports show and the configured ones, checked (at most
//! `concurrency` at once), given the enforcement verdict of its reports,
//! and stored. `dmarcflow check` uses the same pieces for the domains it
//! is given.

use dmarcflow_enforce::EnforcementConfig;
use dmarcflow_posture::{check_all, Clients, Dns, Posture, SelectorSource};
use dmarcflow_senders::SenderMap;
use dmarcflow_store::Store;

use crate::{encoder, reports, WatchConfig, WatchError};

/// Rows per INSERT.
const ROWS_PER_INSERT: usize = 200;

/// A domain and the selectors to look at.
pub type Target = (String, Vec<(String, SelectorSource)>);

/// `domains`, each with the selectors the store's reports since `since`
/// show for it (when there is a store) and then `configured`.
pub async fn targets(
    store: Option<&Store>,
    domains: &[String],
    configured: &[String],
    since: i64,
) -> Result<Vec<Target>, WatchError> {
    let seen = match store {
        Some(store) => reports::selectors(store, since).await?,
        None => Default::default(),
    };
    Ok(domains
        .iter()
        .map(|domain| {
            let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
            let mut selectors: Vec<(String, SelectorSource)> = seen
                .get(&domain)
                .into_iter()
                .flatten()
                .map(|s| (s.clone(), SelectorSource::Reports))
                .collect();
            for s in configured {
                let s = s.trim().to_ascii_lowercase();
                if !selectors.iter().any(|(have, _)| *have == s) {
                    selectors.push((s, SelectorSource::Configured));
                }
            }
            (domain, selectors)
        })
        .collect())
}

/// Each posture given the enforcement verdict of its domain's reports over
/// the `days` before `now`, where it has any.
pub async fn add_enforcement(
    store: &Store,
    postures: &mut [Posture],
    days: u32,
    now: i64,
    enforcement: &EnforcementConfig,
    catalogue: &SenderMap,
) -> Result<(), WatchError> {
    for p in postures.iter_mut() {
        p.enforcement =
            reports::enforcement(store, &p.domain, days, now, enforcement, catalogue).await?;
    }
    Ok(())
}

/// Writes the checks to `domain_checks`.
pub async fn save(store: &mut Store, postures: &[Posture]) -> Result<(), WatchError> {
    for chunk in postures.chunks(ROWS_PER_INSERT) {
        if let Some(sql) = encoder::insert(store.backend(), chunk) {
            store.execute(&sql).await?;
        }
    }
    Ok(())
}

/// One round at `now` (Unix seconds): what was checked, already stored.
#[allow(clippy::too_many_arguments)]
pub async fn round(
    store: &mut Store,
    config: &WatchConfig,
    dns: &impl Dns,
    clients: &Clients,
    enforcement: &EnforcementConfig,
    catalogue: &SenderMap,
    now: i64,
) -> Result<Vec<Posture>, WatchError> {
    let since = now - i64::from(config.report_days.max(1)) * 86_400;
    let mut domains = reports::domains(store, since).await?;
    let with_reports = domains.len();
    for d in &config.domains {
        let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
        if !d.is_empty() && !domains.contains(&d) {
            domains.push(d);
        }
    }
    let targets = targets(Some(store), &domains, &config.dkim_selectors, since).await?;
    let mut postures = check_all(dns, clients, &targets, config.concurrency).await;
    // Only the domains with reports can have a verdict from them.
    add_enforcement(
        store,
        &mut postures[..with_reports],
        config.report_days,
        now,
        enforcement,
        catalogue,
    )
    .await?;
    save(store, &postures).await?;
    Ok(postures)
}
