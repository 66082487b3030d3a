//! The modes `dmarcflow mta-sts set` stored (`mta_sts_modes`: ClickHouse
//! 0013, SQLite 0007), over the configured ones: changing a mode is a
//! command, not an edit of the configuration and a restart. ClickHouse
//! keeps every change and reads the newest (argMax); SQLite replaces.

use std::collections::BTreeMap;

use dmarcflow_store::Store;

use super::Mode;
use crate::HostedError;

/// Each domain's stored mode.
pub async fn load(store: &Store) -> Result<BTreeMap<String, Mode>, HostedError> {
    let b = store.backend();
    let sql = format!(
        "SELECT domain, {} FROM mta_sts_modes GROUP BY domain",
        b.newest("mode", "updated_at")
    );
    let table = store.query(&sql).await?;
    Ok(table
        .rows
        .into_iter()
        .filter_map(|row| {
            let [domain, mode] = <[String; 2]>::try_from(row).ok()?;
            Some((domain, Mode::parse(&mode)?))
        })
        .collect())
}

/// Stores `mode` for `domain` (`version`: grows with each change, the time
/// in microseconds).
pub async fn set(
    store: &mut Store,
    domain: &str,
    mode: Mode,
    version: u64,
) -> Result<(), HostedError> {
    let b = store.backend();
    let sql = format!(
        "{} mta_sts_modes (domain, mode, updated_at) VALUES ({}, {}, {version})",
        b.upsert(),
        b.quote(&domain.to_ascii_lowercase()),
        b.quote(mode.as_str()),
    );
    store.execute(&sql).await?;
    Ok(())
}
