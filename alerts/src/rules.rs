//! The conditions alerts watch for, each a query of the store's daily
//! tables (or report tables) in the configured store's dialect, evaluated
//! over a window of days ending with the evaluation day and, where a rule
//! compares, the baseline of days before it.

use std::collections::BTreeMap;

use dmarcflow_store::summary::{day, day_seconds as seconds, Backend};
use dmarcflow_store::{Store, Table};

use crate::{AlertError, AlertsConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// An address sending as the domain for the first time.
    NewSource,
    /// A sender (enrichment's name) sending as the domain for the first time.
    NewSender,
    /// The DMARC pass rate below its baseline.
    PassRateDrop,
    /// A source failing DMARC in volume: spoofing in progress.
    FailingSource,
    /// TLS-RPT failure sessions.
    TlsFailures,
    /// A TLS-RPT failure result type not seen before.
    TlsNewResultType,
    /// The published policy changed.
    PolicyChange,
    /// Failure reports (ruf) arrived.
    FailureReports,
    /// A sender the owner approved fails DMARC (`dmarcflow_enforce`).
    ApprovedSenderFailing,
    /// The domain became ready for its next policy step.
    DomainReady,
    /// A record the domain publishes changed (`dmarcflow_watch`).
    RecordChanged,
    /// The domain's posture score fell.
    ScoreDropped,
    /// SPF over its 10-lookup limit.
    SpfLookupLimit,
    /// The MTA-STS policy unreachable or invalid.
    MtaStsPolicyFailing,
    /// An MX host's certificate expiring soon (or expired).
    MxCertificateExpiring,
    /// A DKIM key the reports show in use no longer published.
    DkimKeyDisappeared,
    /// An MTA-STS policy in testing can be enforced (TLS reports clean).
    MtaStsReady,
    /// An enforced MTA-STS policy and senders refusing delivery.
    MtaStsEnforceFailures,
    /// A hosted policy host's certificate could not be renewed.
    CertificateRenewalFailed,
    /// A flattened SPF chain in the hosted zone changed.
    SpfFlatteningChanged,
}

impl Rule {
    pub const ALL: [Rule; 20] = [
        Rule::NewSource,
        Rule::NewSender,
        Rule::PassRateDrop,
        Rule::FailingSource,
        Rule::TlsFailures,
        Rule::TlsNewResultType,
        Rule::PolicyChange,
        Rule::FailureReports,
        Rule::ApprovedSenderFailing,
        Rule::DomainReady,
        Rule::RecordChanged,
        Rule::ScoreDropped,
        Rule::SpfLookupLimit,
        Rule::MtaStsPolicyFailing,
        Rule::MxCertificateExpiring,
        Rule::DkimKeyDisappeared,
        Rule::MtaStsReady,
        Rule::MtaStsEnforceFailures,
        Rule::CertificateRenewalFailed,
        Rule::SpfFlatteningChanged,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::NewSource => "new_source",
            Rule::NewSender => "new_sender",
            Rule::PassRateDrop => "pass_rate_drop",
            Rule::FailingSource => "failing_source",
            Rule::TlsFailures => "tls_failures",
            Rule::TlsNewResultType => "tls_new_result_type",
            Rule::PolicyChange => "policy_change",
            Rule::FailureReports => "failure_reports",
            Rule::ApprovedSenderFailing => "approved_sender_failing",
            Rule::DomainReady => "domain_ready",
            Rule::RecordChanged => "record_changed",
            Rule::ScoreDropped => "score_dropped",
            Rule::SpfLookupLimit => "spf_lookup_limit",
            Rule::MtaStsPolicyFailing => "mta_sts_policy_failing",
            Rule::MxCertificateExpiring => "mx_certificate_expiring",
            Rule::DkimKeyDisappeared => "dkim_key_disappeared",
            Rule::MtaStsReady => "mta_sts_ready",
            Rule::MtaStsEnforceFailures => "mta_sts_enforce_failures",
            Rule::CertificateRenewalFailed => "certificate_renewal_failed",
            Rule::SpfFlatteningChanged => "spf_flattening_changed",
        }
    }

    /// Whether the end of a condition is worth a message: not a domain
    /// that stopped being ready (it was told once; the report says why),
    /// nor the end of a one-off change (a record's text, the score).
    pub fn notify_resolution(self) -> bool {
        !matches!(
            self,
            Rule::DomainReady
                | Rule::RecordChanged
                | Rule::ScoreDropped
                | Rule::MtaStsReady
                | Rule::SpfFlatteningChanged
        )
    }

    pub fn parse(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// One condition that holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub rule: Rule,
    pub domain: String,
    /// What it is about within the domain (an address, a sender, a result
    /// type; empty for the domain as a whole).
    pub subject: String,
    /// One line a person reads.
    pub message: String,
    /// The number the threshold was held against.
    pub value: f64,
}

impl Condition {
    /// Its identity in the state: the same condition on a later round.
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.rule.name(), self.domain, self.subject)
    }
}

/// The evaluated days: the window ending with `today`, the baseline before.
#[derive(Debug, Clone)]
pub struct Period {
    /// Unix seconds of the window's first day and of the day after its last.
    pub window: (i64, i64),
    pub baseline_start: i64,
}

impl Period {
    pub fn new(today: &str, config: &AlertsConfig) -> Result<Self, AlertError> {
        let end = seconds(today).ok_or_else(|| AlertError::Day(today.to_owned()))? + 86_400;
        let start = end - i64::from(config.window_days.max(1)) * 86_400;
        Ok(Self {
            window: (start, end),
            baseline_start: start - i64::from(config.baseline_days) * 86_400,
        })
    }
}

/// Every rule's query, by rule (also what `dmarcflow clickhouse-sql`
/// prints for checking on other server releases).
pub fn queries(backend: Backend, period: &Period) -> Vec<(Rule, String)> {
    let d = backend;
    let day_of = |seconds: i64| d.day(&day(seconds));
    let (ws, we) = (day_of(period.window.0), day_of(period.window.1 - 86_400));
    let bs = day_of(period.baseline_start);
    let ip = d.ip_text("source_ip");
    let count = d.count();
    let (ts, te) = (d.time(period.window.0), d.time(period.window.1));
    let policy = ["p", "sp", "pct", "testing"]
        .map(|c| d.text_or_empty(c))
        .join(", ");
    // The domains with mail before the window: a source is new to a domain
    // whose history it is not part of, not to one seen for the first time.
    let known = format!(
        "SELECT policy_domain FROM aggregate_by_source_daily WHERE day < {ws} GROUP BY policy_domain"
    );
    vec![
        (
            Rule::NewSource,
            format!(
                "SELECT policy_domain, {ip} AS source, sum(messages) AS total, \
                 sum(dmarc_fail) AS failing, min(day) AS first_day FROM aggregate_by_source_daily \
                 WHERE day <= {we} AND policy_domain IN ({known}) \
                 GROUP BY policy_domain, source_ip HAVING first_day >= {ws}"
            ),
        ),
        (
            Rule::NewSender,
            format!(
                "SELECT policy_domain, sender_name, sum(messages) AS total, \
                 sum(dmarc_fail) AS failing, min(day) AS first_day FROM aggregate_by_sender_daily \
                 WHERE day <= {we} AND sender_name != '' AND policy_domain IN ({known}) \
                 GROUP BY policy_domain, sender_name HAVING first_day >= {ws}"
            ),
        ),
        (
            Rule::PassRateDrop,
            format!(
                "SELECT policy_domain, \
                 sum(CASE WHEN day >= {ws} THEN messages ELSE 0 END) AS window_total, \
                 sum(CASE WHEN day >= {ws} THEN dmarc_pass ELSE 0 END) AS window_pass, \
                 sum(CASE WHEN day < {ws} THEN messages ELSE 0 END) AS baseline_total, \
                 sum(CASE WHEN day < {ws} THEN dmarc_pass ELSE 0 END) AS baseline_pass \
                 FROM aggregate_by_source_daily WHERE day >= {bs} AND day <= {we} \
                 GROUP BY policy_domain"
            ),
        ),
        (
            Rule::FailingSource,
            format!(
                "SELECT policy_domain, {ip} AS source, sum(dmarc_fail) AS failing, \
                 sum(messages) AS total FROM aggregate_by_source_daily \
                 WHERE day >= {ws} AND day <= {we} GROUP BY policy_domain, source_ip \
                 HAVING failing > 0"
            ),
        ),
        (
            Rule::TlsFailures,
            format!(
                "SELECT policy_domain, sum(sessions) AS failed FROM tlsrpt_by_result_daily \
                 WHERE day >= {ws} AND day <= {we} AND result_type != 'success' \
                 GROUP BY policy_domain HAVING failed > 0"
            ),
        ),
        (
            Rule::TlsNewResultType,
            format!(
                "SELECT policy_domain, result_type, sum(sessions) AS failed, min(day) AS first_day \
                 FROM tlsrpt_by_result_daily WHERE day <= {we} AND result_type != 'success' \
                 GROUP BY policy_domain, result_type HAVING first_day >= {ws} AND failed > 0"
            ),
        ),
        (
            Rule::PolicyChange,
            format!(
                "SELECT policy_domain, {policy}, {count} AS reports, \
                 {first} AS first_seen, {last} AS last_seen FROM aggregate_reports \
                 WHERE date_begin < {te} GROUP BY policy_domain, p, sp, pct, testing",
                first = d.seconds("min(date_begin)"),
                last = d.seconds("max(date_begin)"),
            ),
        ),
        (
            Rule::FailureReports,
            format!(
                "SELECT reported_domain, {count} AS reports, sum(incidents) AS incidents \
                 FROM failure_reports WHERE arrival_date >= {ts} AND arrival_date < {te} \
                 GROUP BY reported_domain"
            ),
        ),
    ]
}

/// The conditions that hold at the end of `period`.
pub async fn conditions(
    store: &Store,
    config: &AlertsConfig,
    period: &Period,
) -> Result<Vec<Condition>, AlertError> {
    let mut out = Vec::new();
    for (rule, sql) in queries(store.backend(), period) {
        let table = store.query(&sql).await?;
        let found = judge(rule, &table, config, period);
        match rule {
            Rule::NewSource | Rule::NewSender => out.extend(largest_new(found, config)),
            _ => out.extend(found),
        }
    }
    crate::enforcement::name_new_sources(store, config, period, &mut out).await?;
    out.extend(crate::enforcement::conditions(store, config, period).await?);
    out.extend(crate::posture::conditions(store, config, period).await?);
    out.extend(crate::mta_sts::conditions(store, config, period).await?);
    Ok(out)
}

/// Subject of the alert that counts a domain's new sources past its cap.
pub const MORE_NEW: &str = "(more)";

/// New-source conditions capped per domain at `new_source_max`: the
/// largest by messages stay, the others become one alert counting them (a
/// domain whose mail comes from large senders sees many addresses new
/// each week; a person reads the largest, and their number).
fn largest_new(found: Vec<Condition>, config: &AlertsConfig) -> Vec<Condition> {
    let mut by_domain: BTreeMap<String, Vec<Condition>> = BTreeMap::new();
    for c in found {
        by_domain.entry(c.domain.clone()).or_default().push(c);
    }
    let mut out = Vec::new();
    for (domain, mut conditions) in by_domain {
        let max = config.thresholds(&domain).new_source_max as usize;
        if max == 0 || conditions.len() <= max {
            out.extend(conditions);
            continue;
        }
        conditions.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.subject.cmp(&b.subject)));
        let rest = conditions.split_off(max);
        let rule = rest[0].rule;
        let kind = if rule == Rule::NewSource {
            "sources"
        } else {
            "senders"
        };
        let messages: f64 = rest.iter().map(|c| c.value).sum();
        out.extend(conditions);
        out.push(Condition {
            rule,
            message: format!(
                "{} more new {kind} sending as {domain}: {messages} messages (none larger than the {max} named)",
                rest.len()
            ),
            domain,
            subject: MORE_NEW.to_owned(),
            value: rest.len() as f64,
        });
    }
    out
}

fn number(row: &[String], i: usize) -> f64 {
    row.get(i).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

fn text(row: &[String], i: usize) -> String {
    row.get(i).cloned().unwrap_or_default()
}

/// A rule's rows as the conditions that pass their domain's thresholds.
fn judge(rule: Rule, table: &Table, config: &AlertsConfig, period: &Period) -> Vec<Condition> {
    let mut out = Vec::new();
    if rule == Rule::PolicyChange {
        return policy_changes(table, config, period);
    }
    for row in &table.rows {
        let domain = text(row, 0);
        let t = config.thresholds(&domain);
        let condition = |subject: String, value: f64, message: String| Condition {
            rule,
            domain: domain.clone(),
            subject,
            message,
            value,
        };
        let found = match rule {
            Rule::NewSource | Rule::NewSender => {
                let (what, total, failing) = (text(row, 1), number(row, 2), number(row, 3));
                let kind = if rule == Rule::NewSource {
                    "source"
                } else {
                    "sender"
                };
                (t.new_source_messages > 0 && total >= t.new_source_messages as f64).then(|| {
                    condition(
                        what.clone(),
                        total,
                        format!(
                            "new {kind} {what} sending as {domain}: {total} messages, {failing} failing DMARC (first seen {})",
                            text(row, 4)
                        ),
                    )
                })
            }
            Rule::PassRateDrop => {
                let (wt, wp, bt, bp) = (
                    number(row, 1),
                    number(row, 2),
                    number(row, 3),
                    number(row, 4),
                );
                let (window, baseline) = (rate(wp, wt), rate(bp, bt));
                let drop = baseline - window;
                (t.pass_rate_drop_points > 0.0
                    && bt > 0.0
                    && wt >= t.pass_rate_min_messages as f64
                    && drop > t.pass_rate_drop_points)
                    .then(|| {
                        condition(
                            String::new(),
                            drop,
                            format!(
                                "DMARC pass rate of {domain} fell to {window:.1}% from {baseline:.1}% ({drop:.1} points; {wt} messages)"
                            ),
                        )
                    })
            }
            Rule::FailingSource => {
                let (source, failing, total) = (text(row, 1), number(row, 2), number(row, 3));
                (t.failing_source_messages > 0 && failing >= t.failing_source_messages as f64).then(|| {
                    condition(
                        source.clone(),
                        failing,
                        format!("{source} failed DMARC for {domain} in {failing} of {total} messages"),
                    )
                })
            }
            Rule::TlsFailures => {
                let failed = number(row, 1);
                (t.tls_failed_sessions > 0 && failed >= t.tls_failed_sessions as f64).then(|| {
                    condition(
                        String::new(),
                        failed,
                        format!("{failed} TLS sessions to {domain} failed (TLS-RPT)"),
                    )
                })
            }
            Rule::TlsNewResultType => {
                let (kind, failed) = (text(row, 1), number(row, 2));
                (t.tls_new_result_type > 0).then(|| {
                    condition(
                        kind.clone(),
                        failed,
                        format!("new TLS failure for {domain}: {kind} ({failed} sessions)"),
                    )
                })
            }
            Rule::FailureReports => {
                let reports = number(row, 1);
                (t.failure_reports > 0 && reports >= t.failure_reports as f64).then(|| {
                    condition(
                        String::new(),
                        reports,
                        format!("{reports} failure reports (ruf) for {domain}"),
                    )
                })
            }
            Rule::PolicyChange
            | Rule::ApprovedSenderFailing
            | Rule::DomainReady
            | Rule::RecordChanged
            | Rule::ScoreDropped
            | Rule::SpfLookupLimit
            | Rule::MtaStsPolicyFailing
            | Rule::MxCertificateExpiring
            | Rule::DkimKeyDisappeared
            | Rule::MtaStsReady
            | Rule::MtaStsEnforceFailures
            | Rule::CertificateRenewalFailed
            | Rule::SpfFlatteningChanged => None,
        };
        out.extend(found);
    }
    out
}

fn rate(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// The policy seen most recently, first seen in the window, where another
/// was seen before it: the domain's owner changed its record.
fn policy_changes(table: &Table, config: &AlertsConfig, period: &Period) -> Vec<Condition> {
    // Per domain: (policy, first seen, last seen).
    let mut by_domain: BTreeMap<String, Vec<(String, i64, i64)>> = BTreeMap::new();
    for row in &table.rows {
        let policy = format!(
            "p={} sp={} pct={} testing={}",
            text(row, 1),
            text(row, 2),
            text(row, 3),
            text(row, 4)
        );
        by_domain.entry(text(row, 0)).or_default().push((
            policy,
            number(row, 6) as i64,
            number(row, 7) as i64,
        ));
    }
    let mut out = Vec::new();
    for (domain, mut policies) in by_domain {
        if config.thresholds(&domain).policy_change == 0 {
            continue;
        }
        policies.sort_by_key(|(_, _, last)| *last);
        let Some((current, first, _)) = policies.last().cloned() else {
            continue;
        };
        let before = policies
            .iter()
            .filter(|(p, f, _)| *p != current && *f < period.window.0)
            .max_by_key(|(_, _, last)| *last);
        if let (true, Some((previous, _, _))) = (first >= period.window.0, before) {
            out.push(Condition {
                rule: Rule::PolicyChange,
                domain: domain.clone(),
                subject: current.clone(),
                message: format!(
                    "the published policy of {domain} changed: {previous} -> {current}"
                ),
                value: 1.0,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Thresholds;

    #[test]
    fn days_and_periods() {
        let config = AlertsConfig {
            window_days: 2,
            baseline_days: 7,
            ..AlertsConfig::default()
        };
        let p = Period::new("2024-01-10", &config).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(day(p.window.0), "2024-01-09");
        assert_eq!(day(p.window.1), "2024-01-11");
        assert_eq!(day(p.baseline_start), "2024-01-02");
        assert!(Period::new("soon", &config).is_err());
    }

    #[test]
    fn new_sources_past_the_cap_are_counted_in_one_alert() {
        let mut config = AlertsConfig::default();
        config.domains.insert(
            "example.org".into(),
            Thresholds {
                new_source_max: 0,
                ..Thresholds::default()
            },
        );
        let new = |domain: &str, n: u32| Condition {
            rule: Rule::NewSource,
            domain: domain.into(),
            subject: format!("192.0.2.{n}"),
            message: String::new(),
            value: f64::from(n),
        };
        let found: Vec<Condition> = (1..=25)
            .map(|n| new("example.com", n))
            .chain((1..=25).map(|n| new("example.org", n)))
            .collect();
        let kept = largest_new(found, &config);
        let com: Vec<&Condition> = kept.iter().filter(|c| c.domain == "example.com").collect();
        // The 20 largest (25 down to 6) by name, then one counting 1 to 5.
        assert_eq!(com.len(), 21);
        assert_eq!(com[0].subject, "192.0.2.25");
        assert_eq!(com[19].subject, "192.0.2.6");
        assert_eq!(com[20].subject, MORE_NEW);
        assert_eq!(com[20].value, 5.0);
        assert_eq!(
            com[20].message,
            "5 more new sources sending as example.com: 15 messages (none larger than the 20 named)"
        );
        // No cap for example.org.
        assert_eq!(
            kept.iter().filter(|c| c.domain == "example.org").count(),
            25
        );
    }
}
