//! When an MTA-STS policy can move from `testing` to `enforce`, from the
//! stored TLS reports (RFC 8460): under `testing`, senders that would have
//! refused delivery report the failure instead of refusing, so a domain
//! whose reports show no failure for `mta_sts_clean_days` over at least
//! `mta_sts_min_sessions` sessions loses no mail by enforcing. Each
//! failure that stands in the way is a blocker: its MX host and result
//! type, how many reporting organisations saw it, since when.
//!
//! The mode is the one the reports quote (each carries the policy the
//! sender applied): `enforced` once the newest quotes `enforce`, when a
//! failure means mail refused (the alert on enforce-mode failures).

use dmarcflow_store::summary::{day, day_seconds, Scope};
use dmarcflow_store::{Store, StoreError};
use serde::Serialize;

use crate::EnforcementConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StsVerdict {
    /// No MTA-STS policy quoted in the reports of the period.
    NoPolicy,
    Ready,
    NotReady,
    Enforced,
}

impl StsVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            StsVerdict::NoPolicy => "no_policy",
            StsVerdict::Ready => "ready",
            StsVerdict::NotReady => "not_ready",
            StsVerdict::Enforced => "enforced",
        }
    }
}

/// A failure in the clean-days window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StsBlocker {
    pub mx_host: String,
    pub result: String,
    /// Reporting organisations (the senders) that saw it.
    pub senders: u64,
    pub sessions: u64,
    /// The first day it was seen in the window.
    pub since: String,
}

impl StsBlocker {
    /// "mx2.example.com: certificate-expired seen by 3 senders since 2026-11-30"
    pub fn text(&self) -> String {
        format!(
            "{}: {} seen by {} sender{} since {} ({} sessions)",
            self.mx_host,
            self.result,
            self.senders,
            if self.senders == 1 { "" } else { "s" },
            self.since,
            self.sessions
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StsReadiness {
    pub domain: String,
    /// The mode the newest report quotes (`testing`, `enforce`, `none`).
    pub mode: Option<String>,
    pub verdict: StsVerdict,
    /// Days with TLS reports in the period, and their sessions.
    pub days_observed: u64,
    pub sessions: u64,
    pub failures: u64,
    /// The clean-days window: its first day, and its sessions.
    pub window_from: String,
    pub window_sessions: u64,
    pub blockers: Vec<StsBlocker>,
}

impl StsReadiness {
    /// One line a person reads.
    pub fn summary(&self) -> String {
        let mode = self.mode.as_deref().unwrap_or("none");
        match self.verdict {
            StsVerdict::NoPolicy => format!("MTA-STS: no policy in the TLS reports of {}", self.domain),
            StsVerdict::Enforced if self.blockers.is_empty() && self.window_sessions == 0 => {
                format!("MTA-STS: enforced (no TLS reports since {})", self.window_from)
            }
            StsVerdict::Enforced if self.blockers.is_empty() => format!(
                "MTA-STS: enforced; no failure since {} ({} sessions)",
                self.window_from, self.window_sessions
            ),
            StsVerdict::Enforced => format!(
                "MTA-STS: enforced, and senders refused delivery since {}: {}",
                self.window_from,
                self.blockers.iter().map(StsBlocker::text).collect::<Vec<_>>().join("; ")
            ),
            StsVerdict::Ready => format!(
                "MTA-STS: ready to enforce (mode {mode}): no failure since {} over {} sessions",
                self.window_from, self.window_sessions
            ),
            StsVerdict::NotReady if self.blockers.is_empty() => format!(
                "MTA-STS: not ready to enforce (mode {mode}): no failure since {}, but {} sessions on {} days of reports are too few to tell",
                self.window_from, self.window_sessions, self.days_observed
            ),
            StsVerdict::NotReady => format!(
                "MTA-STS: not ready to enforce (mode {mode}): {}",
                self.blockers.iter().map(StsBlocker::text).collect::<Vec<_>>().join("; ")
            ),
        }
    }
}

/// The queries of [`assess`], by name (for the chDB check).
pub fn queries(
    backend: dmarcflow_store::summary::Backend,
    scope: &Scope,
    window_from: &str,
) -> [(&'static str, String); 3] {
    let b = backend;
    let domain = &scope.domain;
    let (start, end) = scope.times(b);
    let window_start = b.midnight(window_from);
    let observed = format!(
        // Aliased apart from the columns: ClickHouse would read an alias
        // named like a column inside the other sums.
        "SELECT {count_days} AS days_seen, sum(sessions) AS all_sessions, \
         sum(CASE WHEN result_type != 'success' THEN sessions ELSE 0 END) AS failed_sessions, \
         sum(CASE WHEN day >= {wday} THEN sessions ELSE 0 END) AS recent_sessions \
         FROM tlsrpt_by_result_daily WHERE policy_domain = '{domain}' AND {days}",
        count_days = "count(DISTINCT day)",
        wday = b.day(window_from),
        days = scope.days(b),
    );
    let mode = format!(
        "SELECT {enforce} AS enforce, {testing} AS testing, {none} AS none_mode \
         FROM tlsrpt_policies WHERE policy_domain = '{domain}' AND {kind} = 'sts' \
         AND date_begin >= {start} AND date_begin < {end} ORDER BY date_begin DESC LIMIT 1",
        enforce = b.array_has("policy_string", "mode: enforce"),
        testing = b.array_has("policy_string", "mode: testing"),
        none = b.array_has("policy_string", "mode: none"),
        kind = b.text("policy_type"),
    );
    let blockers = format!(
        "SELECT CASE WHEN receiving_mx_hostname = '' THEN '(unknown)' ELSE receiving_mx_hostname END AS mx, \
         {result} AS result, count(DISTINCT organization_name) AS senders, \
         sum(failed_sessions) AS failed, {first} AS first_seen FROM tlsrpt_failures \
         WHERE policy_domain = '{domain}' AND date_begin >= {window_start} AND date_begin < {end} \
         GROUP BY mx, result HAVING failed > 0 ORDER BY failed DESC, mx, result LIMIT 50",
        result = b.tls_result(),
        first = b.seconds("min(date_begin)"),
    );
    [
        ("mta-sts observed", observed),
        ("mta-sts mode", mode),
        ("mta-sts blockers", blockers),
    ]
}

/// `scope`'s domain's readiness to enforce MTA-STS, the clean-days window
/// ending with the scope's last day.
pub async fn assess(
    store: &Store,
    scope: &Scope,
    config: &EnforcementConfig,
) -> Result<StsReadiness, StoreError> {
    let window_from = day_seconds(&scope.to)
        .map(|to| day(to - i64::from(config.mta_sts_clean_days.max(1).saturating_sub(1)) * 86_400))
        .unwrap_or_else(|| scope.to.clone())
        .max(scope.from.clone());
    let [observed, mode, blockers] = queries(store.backend(), scope, &window_from);
    let number = |t: &dmarcflow_store::Table, i: usize| -> u64 {
        t.rows
            .first()
            .and_then(|r| r.get(i))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    };
    let observed = store.query(&observed.1).await?;
    let mode_row = store.query(&mode.1).await?;
    let flag = |i: usize| number(&mode_row, i) > 0;
    let mode = if mode_row.rows.is_empty() {
        None
    } else if flag(0) {
        Some("enforce".to_owned())
    } else if flag(1) {
        Some("testing".to_owned())
    } else if flag(2) {
        Some("none".to_owned())
    } else {
        Some("unknown".to_owned())
    };
    let blockers: Vec<StsBlocker> = store
        .query(&blockers.1)
        .await?
        .rows
        .into_iter()
        .filter_map(|r| {
            let [mx, result, senders, failed, first] = <[String; 5]>::try_from(r).ok()?;
            Some(StsBlocker {
                mx_host: mx,
                result,
                senders: senders.parse().unwrap_or(0),
                sessions: failed.parse().unwrap_or(0),
                since: day(first.parse().unwrap_or(0)),
            })
        })
        .collect();
    let window_sessions = number(&observed, 3);
    let verdict = match mode.as_deref() {
        None | Some("none") => StsVerdict::NoPolicy,
        Some("enforce") => StsVerdict::Enforced,
        _ if blockers.is_empty()
            && window_sessions >= config.mta_sts_min_sessions
            && number(&observed, 0) >= u64::from(config.mta_sts_clean_days) =>
        {
            StsVerdict::Ready
        }
        _ => StsVerdict::NotReady,
    };
    Ok(StsReadiness {
        domain: scope.domain.clone(),
        mode,
        verdict,
        days_observed: number(&observed, 0),
        sessions: number(&observed, 1),
        failures: number(&observed, 2),
        window_from,
        window_sessions,
        blockers,
    })
}
