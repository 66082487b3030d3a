//! The numbers of a digest, from the store's daily tables.

use dmarcflow_enforce::{Assessment, EnforcementConfig};
use dmarcflow_senders::SenderMap;
use dmarcflow_store::summary::{Backend, Scope, View};
use dmarcflow_store::{Store, StoreError, Table};

/// One day's aggregate volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub messages: u64,
    pub pass: u64,
    pub fail: u64,
}

/// Everything a digest shows.
#[derive(Debug, Clone, Default)]
pub struct Digest {
    pub domain: String,
    pub from: String,
    pub to: String,
    pub days: Vec<Day>,
    pub results: Table,
    pub sources: Table,
    pub failing: Table,
    /// TLS-RPT sessions per result type and MX host.
    pub tls: Table,
    /// TLS-RPT sessions per reporting organisation and sending network.
    pub tls_sources: Table,
    /// The alerts of the period: status, rule, message, when.
    pub alerts: Table,
    /// Who sends as the domain and its readiness for the next policy step
    /// (None only in digests built without a store).
    pub enforcement: Option<Assessment>,
    /// When its MTA-STS policy can be enforced, from the TLS reports.
    pub mta_sts: Option<dmarcflow_enforce::StsReadiness>,
    /// The domain's newest posture check (None: never checked).
    pub posture: Option<crate::posture::PostureSection>,
}

impl Digest {
    pub fn messages(&self) -> u64 {
        self.days.iter().map(|d| d.messages).sum()
    }
    pub fn pass(&self) -> u64 {
        self.days.iter().map(|d| d.pass).sum()
    }
    pub fn fail(&self) -> u64 {
        self.days.iter().map(|d| d.fail).sum()
    }
    /// The DMARC pass rate of the period, in percent.
    pub fn pass_rate(&self) -> f64 {
        let m = self.messages();
        if m == 0 {
            0.0
        } else {
            100.0 * self.pass() as f64 / m as f64
        }
    }
}

/// What the owner says about their senders, and the catalogue that knows
/// how to fix them: what the enforcement section needs.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub enforcement: &'a EnforcementConfig,
    pub catalogue: &'a SenderMap,
}

pub async fn gather(store: &Store, scope: &Scope, owner: Owner<'_>) -> Result<Digest, StoreError> {
    let backend = store.backend();
    let (day, filter) = (backend.text("day"), scope.days(backend));
    let domain = &scope.domain;
    let per_day = store
        .query(&format!(
            "SELECT {day} AS d, sum(messages) AS total, sum(dmarc_pass) AS pass, \
             sum(dmarc_fail) AS fail FROM aggregate_by_source_daily \
             WHERE policy_domain = '{domain}' AND {filter} GROUP BY day ORDER BY d"
        ))
        .await?;
    let number = |row: &[String], i: usize| row.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
    let days = per_day
        .rows
        .iter()
        .map(|r| Day {
            day: r.first().cloned().unwrap_or_default(),
            messages: number(r, 1),
            pass: number(r, 2),
            fail: number(r, 3),
        })
        .collect();
    let ip = backend.ip_text("source_ip");
    let failing = store
        .query(&format!(
            "SELECT {ip} AS source, sum(dmarc_fail) AS failing, sum(messages) AS total, \
             sum(disposition_reject) AS rejected FROM aggregate_by_source_daily \
             WHERE policy_domain = '{domain}' AND {filter} GROUP BY source_ip \
             HAVING failing > 0 ORDER BY failing DESC, source LIMIT 10"
        ))
        .await?;
    let tls = store.query(&View::TlsResult.sql(backend, scope)).await?;
    let tls_sources = store.query(&View::TlsSource.sql(backend, scope)).await?;
    let (since, start, end) = period_seconds(backend, scope);
    let alerts = store
        .query(&format!(
            "SELECT status, rule, message, {since} AS at FROM alert_state \
             WHERE domain = '{domain}' AND since >= {start} AND since < {end} \
             AND rule != 'report_sent' \
             ORDER BY at, rule"
        ))
        .await?;
    let mut sources = store.query(&View::Source.sql(backend, scope)).await?;
    sources.rows.truncate(20);
    Ok(Digest {
        domain: scope.domain.clone(),
        from: scope.from.clone(),
        to: scope.to.clone(),
        days,
        results: store.query(&View::Result.sql(backend, scope)).await?,
        sources,
        failing,
        tls,
        tls_sources,
        alerts,
        enforcement: Some(
            dmarcflow_enforce::assess(store, scope, owner.enforcement, owner.catalogue).await?,
        ),
        mta_sts: Some(dmarcflow_enforce::mta_sts::assess(store, scope, owner.enforcement).await?)
            .filter(|r| r.verdict != dmarcflow_enforce::StsVerdict::NoPolicy),
        posture: dmarcflow_watch::history::newest_of(store, domain)
            .await
            .map_err(|dmarcflow_watch::WatchError::Store(e)| e)?
            .as_ref()
            .map(crate::posture::section),
    })
}

/// The alert time as text, and the period's bounds as the alert table's
/// time type (Unix seconds, midnight UTC to the midnight after `to`).
fn period_seconds(backend: Backend, scope: &Scope) -> (String, String, String) {
    let (start, end) = scope.times(backend);
    (backend.time_text("since"), start, end)
}
