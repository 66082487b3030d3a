//! Each ACME-managed name's latest round, kept in the store
//! (`certificate_renewals`: ClickHouse 0014, SQLite 0008) for the alert
//! rule on failed renewals: the end of the certificate served, and why the
//! last needed order failed.

use dmarcflow_store::Store;

use crate::acme::Outcome;
use crate::HostedError;

/// Records `outcomes` (`version`: grows with each round).
pub async fn record(
    store: &mut Store,
    outcomes: &[Outcome],
    version: u64,
) -> Result<(), HostedError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let b = store.backend();
    let rows: Vec<String> = outcomes
        .iter()
        .map(|o| {
            format!(
                "({}, {}, {}, {version})",
                b.quote(&o.name),
                b.time(o.not_after.max(0)),
                b.quote(o.error.as_deref().unwrap_or("")),
            )
        })
        .collect();
    let sql = format!(
        "{} certificate_renewals (name, not_after, error, updated_at) VALUES {}",
        b.upsert(),
        rows.join(", ")
    );
    store.execute(&sql).await?;
    Ok(())
}

/// A name whose last needed order failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub name: String,
    /// The end of the certificate still served (Unix seconds; 0: none).
    pub not_after: i64,
    pub error: String,
}

/// Every name whose latest round failed.
pub async fn failing(store: &Store) -> Result<Vec<Failing>, HostedError> {
    let b = store.backend();
    let newest = |c: &str| b.newest(c, "updated_at");
    let sql = format!(
        "SELECT name, {}, {} FROM certificate_renewals GROUP BY name ORDER BY name",
        b.seconds(&newest("not_after")),
        newest("error"),
    );
    Ok(store
        .query(&sql)
        .await?
        .rows
        .into_iter()
        .filter_map(|row| {
            let [name, not_after, error] = <[String; 3]>::try_from(row).ok()?;
            (!error.is_empty()).then(|| Failing {
                name,
                not_after: not_after.parse().unwrap_or(0),
                error,
            })
        })
        .collect())
}
