//! Stored checks read back: the newest few per domain, for the alert rules
//! (a check against the one before it) and the reports (the latest).

use std::collections::BTreeMap;

use dmarcflow_store::Store;
use serde::Deserialize;

use crate::WatchError;

/// A DKIM selector as a check saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub selector: String,
    /// `reports` or `configured`.
    pub source: String,
    /// `published`, `missing` or `revoked`.
    pub state: String,
    pub record: String,
}

/// An MX host's STARTTLS as a check saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTls {
    pub host: String,
    /// `yes`, `no` or `unreached`.
    pub starttls: String,
    /// `valid`, the problem, or empty without a certificate.
    pub certificate: String,
    /// Unix seconds; 0 when unknown.
    pub not_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredFinding {
    pub code: String,
    pub severity: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheck {
    pub domain: String,
    pub checked_at: i64,
    pub score: u8,
    pub grade: String,
    pub dmarc_record: String,
    pub dmarc_policy: String,
    pub spf_record: String,
    pub spf_lookups: u32,
    pub dkim: Vec<StoredKey>,
    pub mta_sts_record: String,
    pub mta_sts_mode: String,
    pub mta_sts_policy: String,
    pub tlsrpt_record: String,
    pub bimi_record: String,
    pub mx: String,
    pub mx_tls: Vec<StoredTls>,
    pub enforcement: String,
    pub findings: Vec<StoredFinding>,
}

const COLUMNS: &[&str] = &[
    "domain",
    "checked_at",
    "score",
    "grade",
    "dmarc_record",
    "dmarc_policy",
    "spf_record",
    "spf_lookups",
    "dkim",
    "mta_sts_record",
    "mta_sts_mode",
    "mta_sts_policy",
    "tlsrpt_record",
    "bimi_record",
    "mx",
    "mx_tls",
    "enforcement",
    "findings",
];

/// The query of [`latest`] (`domain`: of that domain only, a name
/// without quotes).
pub fn latest_sql(backend: dmarcflow_store::summary::Backend, n: u32) -> String {
    latest_sql_of(backend, n, None)
}

fn latest_sql_of(
    backend: dmarcflow_store::summary::Backend,
    n: u32,
    domain: Option<&str>,
) -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|c| match *c {
            "checked_at" => format!("{} AS checked_at", backend.seconds("checked_at")),
            other => other.to_owned(),
        })
        .collect();
    backend.latest_per(
        "domain_checks",
        &columns.join(", "),
        "domain",
        "checked_at",
        n,
        &domain.map_or("1 = 1".to_owned(), |d| {
            format!("domain = {}", backend.quote(d))
        }),
    )
}

/// The newest `n` checks of every domain, newest first.
pub async fn latest(
    store: &Store,
    n: u32,
) -> Result<BTreeMap<String, Vec<StoredCheck>>, WatchError> {
    read(store, &latest_sql(store.backend(), n)).await
}

/// The newest check of `domain`, if it has any.
pub async fn newest_of(store: &Store, domain: &str) -> Result<Option<StoredCheck>, WatchError> {
    let sql = latest_sql_of(store.backend(), 1, Some(&domain.to_ascii_lowercase()));
    let mut found = read(store, &sql).await?;
    Ok(found.pop_first().and_then(|(_, mut checks)| checks.pop()))
}

async fn read(store: &Store, sql: &str) -> Result<BTreeMap<String, Vec<StoredCheck>>, WatchError> {
    let table = store.query(sql).await?;
    let mut out: BTreeMap<String, Vec<StoredCheck>> = BTreeMap::new();
    for row in table.rows {
        let Ok(cells) = <[String; 18]>::try_from(row) else {
            continue;
        };
        let [domain, checked_at, score, grade, dmarc_record, dmarc_policy, spf_record, spf_lookups, dkim, mta_sts_record, mta_sts_mode, mta_sts_policy, tlsrpt_record, bimi_record, mx, mx_tls, enforcement, findings] =
            cells;
        let check = StoredCheck {
            domain: domain.clone(),
            checked_at: checked_at.parse().unwrap_or(0),
            score: score.parse().unwrap_or(0),
            grade,
            dmarc_record,
            dmarc_policy,
            spf_record,
            spf_lookups: spf_lookups.parse().unwrap_or(0),
            dkim: lines(&dkim)
                .map(|f| StoredKey {
                    selector: f[0].clone(),
                    source: f[1].clone(),
                    state: f[2].clone(),
                    record: f[3].clone(),
                })
                .collect(),
            mta_sts_record,
            mta_sts_mode,
            mta_sts_policy,
            tlsrpt_record,
            bimi_record,
            mx,
            mx_tls: lines(&mx_tls)
                .map(|f| StoredTls {
                    host: f[0].clone(),
                    starttls: f[1].clone(),
                    certificate: f[2].clone(),
                    not_after: f[3].parse().unwrap_or(0),
                })
                .collect(),
            enforcement,
            findings: serde_json::from_str(&findings).unwrap_or_default(),
        };
        out.entry(domain).or_default().push(check);
    }
    Ok(out)
}

/// A column of tab-separated lines, each as four fields (missing ones
/// empty).
fn lines(text: &str) -> impl Iterator<Item = [String; 4]> + '_ {
    text.lines().filter(|l| !l.is_empty()).map(|l| {
        let mut fields = l.split('\t').map(str::to_owned);
        std::array::from_fn(|_| fields.next().unwrap_or_default())
    })
}
