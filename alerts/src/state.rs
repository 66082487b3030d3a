//! What fired, kept in the store (`alert_state`, migrations ClickHouse 0009
//! and SQLite 0004): per condition its status, since when, and when it was
//! last notified. ClickHouse keeps every change and reads the newest per
//! key (argMax: exact before merges too); SQLite replaces the row.

use std::collections::BTreeMap;

use dmarcflow_store::Store;

use crate::AlertError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Firing,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// One condition's state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub key: String,
    pub rule: String,
    pub domain: String,
    pub subject: String,
    pub status: Status,
    pub message: String,
    /// Unix seconds: since when the status holds.
    pub since: i64,
    /// Unix seconds of the last notification (0: never).
    pub notified_at: i64,
}

/// Every condition's state, by key.
pub async fn load(store: &Store) -> Result<BTreeMap<String, State>, AlertError> {
    let backend = store.backend();
    let newest = |column: &str| backend.newest(column, "updated_at");
    let sql = format!(
        "SELECT key, {}, {}, {}, {}, {}, {}, {} FROM alert_state GROUP BY key",
        newest("rule"),
        newest("domain"),
        newest("subject"),
        newest("status"),
        newest("message"),
        backend.seconds(&newest("since")),
        backend.seconds(&newest("notified_at")),
    );
    let table = store.query(&sql).await?;
    let mut out = BTreeMap::new();
    for row in table.rows {
        let [key, rule, domain, subject, status, message, since, notified_at] =
            <[String; 8]>::try_from(row).unwrap_or_default();
        out.insert(
            key.clone(),
            State {
                key,
                rule,
                domain,
                subject,
                status: if status == "firing" {
                    Status::Firing
                } else {
                    Status::Resolved
                },
                message,
                since: since.parse().unwrap_or(0),
                notified_at: notified_at.parse().unwrap_or(0),
            },
        );
    }
    Ok(out)
}

/// Writes the changed states (`version`: a number that grows with each
/// round, the evaluation time in milliseconds).
pub async fn save(store: &mut Store, states: &[State], version: u64) -> Result<(), AlertError> {
    if states.is_empty() {
        return Ok(());
    }
    let backend = store.backend();
    let q = |s: &str| backend.quote(s);
    let rows: Vec<String> = states
        .iter()
        .map(|s| {
            let (since, notified) = (
                backend.time(s.since.max(0)),
                backend.time(s.notified_at.max(0)),
            );
            format!(
                "({}, {}, {}, {}, {}, {}, {since}, {notified}, {version})",
                q(&s.key),
                q(&s.rule),
                q(&s.domain),
                q(&s.subject),
                q(s.status.as_str()),
                q(&s.message),
            )
        })
        .collect();
    let verb = backend.upsert();
    let sql = format!(
        "{verb} alert_state (key, rule, domain, subject, status, message, since, notified_at, updated_at) VALUES {}",
        rows.join(", ")
    );
    store.execute(&sql).await?;
    Ok(())
}
