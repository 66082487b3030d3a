//! The tables `dmarcflow report` prints for a domain and a date range, from
//! the daily aggregations of whichever store is configured: per result
//! (dispositions and DKIM/SPF alignment), per source address, and, from the
//! enrichment, per sending host (base domain of the PTR name), per sender
//! (name and type), per network (ASN), per country, and per reporter
//! organisation.

pub use crate::dialect::Backend;

/// `YYYY-MM-DD` of Unix seconds (UTC, proleptic Gregorian): the day a
/// report is counted under.
pub fn day(seconds: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Unix seconds of a `YYYY-MM-DD` (UTC midnight); `None` for other text.
pub fn day_seconds(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || text.len() != 10 {
        return None;
    }
    Some(dmarcflow_schemas::storable_time::days_from_civil(y, m, d) * 86_400)
}

/// A domain and an inclusive range of days (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub domain: String,
    pub from: String,
    pub to: String,
}

impl Scope {
    /// Validated: a domain without quotes, days as YYYY-MM-DD.
    pub fn new(domain: &str, from: &str, to: &str) -> Result<Self, String> {
        let day = |d: &str| {
            d.len() == 10
                && d.bytes().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == b'-'
                    } else {
                        c.is_ascii_digit()
                    }
                })
        };
        if !day(from) || !day(to) {
            return Err(format!("dates must be YYYY-MM-DD, got {from:?} and {to:?}"));
        }
        if domain.is_empty() || domain.contains(['\'', '\\', ' ']) {
            return Err(format!("not a domain: {domain:?}"));
        }
        Ok(Self {
            domain: domain.to_ascii_lowercase(),
            from: from.to_owned(),
            to: to.to_owned(),
        })
    }

    /// The scope's bounds as time values: the first second of `from` and
    /// the first second after `to` (UTC).
    pub fn times(&self, backend: Backend) -> (String, String) {
        (
            backend.midnight(&self.from),
            format!("{} + 86400", backend.midnight(&self.to)),
        )
    }

    /// The condition on a daily table's `day` for the scope's days.
    pub fn days(&self, backend: Backend) -> String {
        backend.days_between("day", &self.from, &self.to)
    }
}

/// Per source: messages, DMARC pass rate, aligned DKIM/SPF passes,
/// dispositions; biggest senders first.
pub fn by_source(backend: Backend, scope: &Scope) -> String {
    let ip = backend.ip_text("source_ip");
    let day_filter = scope.days(backend);
    format!(
        // Aliases differ from column names: ClickHouse would substitute an
        // alias named like a column inside the other aggregates.
        "SELECT {ip} AS source, sum(messages) AS total, sum(dmarc_pass) AS pass, \
         sum(dmarc_fail) AS fail, round(100.0 * sum(dmarc_pass) / sum(messages), 1) AS pass_pct, \
         sum(dkim_aligned_pass) AS dkim_aligned, sum(spf_aligned_pass) AS spf_aligned, \
         sum(disposition_none) AS delivered, sum(disposition_quarantine) AS quarantined, \
         sum(disposition_reject) AS rejected \
         FROM aggregate_by_source_daily WHERE policy_domain = '{domain}' AND {day_filter} \
         GROUP BY source_ip HAVING total > 0 ORDER BY total DESC, source LIMIT 100",
        domain = scope.domain
    )
}

/// Per result: messages by disposition and policy-evaluated DKIM/SPF.
pub fn by_result(backend: Backend, scope: &Scope) -> String {
    let day_filter = scope.days(backend);
    let text = |c: &str| backend.text(c);
    format!(
        "SELECT {d} AS disposition, {k} AS dkim, {s} AS spf, sum(messages) AS total \
         FROM aggregate_by_result_daily WHERE policy_domain = '{domain}' AND {day_filter} \
         GROUP BY disposition, dkim, spf HAVING total > 0 \
         ORDER BY total DESC, disposition, dkim, spf",
        d = text("disposition"),
        k = text("dkim"),
        s = text("spf"),
        domain = scope.domain
    )
}

/// One of the report's views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Result,
    Source,
    Host,
    Sender,
    Network,
    Country,
    Reporter,
    /// TLS-RPT sessions per result type and MX host.
    TlsResult,
    /// TLS-RPT sessions per reporting organisation and sending network.
    TlsSource,
}

impl View {
    pub const ALL: [View; 9] = [
        View::Result,
        View::Source,
        View::Host,
        View::Sender,
        View::Network,
        View::Country,
        View::Reporter,
        View::TlsResult,
        View::TlsSource,
    ];

    pub fn name(self) -> &'static str {
        match self {
            View::Result => "result",
            View::Source => "source",
            View::Host => "host",
            View::Sender => "sender",
            View::Network => "network",
            View::Country => "country",
            View::Reporter => "reporter",
            View::TlsResult => "tls-result",
            View::TlsSource => "tls-source",
        }
    }

    pub fn parse(text: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.name() == text)
    }

    /// The view's query.
    pub fn sql(self, backend: Backend, scope: &Scope) -> String {
        let (table, keys) = match self {
            View::Result => return by_result(backend, scope),
            View::Source => return by_source(backend, scope),
            View::TlsResult => return by_tls_result(backend, scope),
            View::TlsSource => return by_tls_source(backend, scope),
            View::Host => ("aggregate_by_host_daily", &["base_domain"][..]),
            View::Sender => (
                "aggregate_by_sender_daily",
                &["sender_name", "sender_type"][..],
            ),
            View::Network => ("aggregate_by_network_daily", &["asn", "as_name"][..]),
            View::Country => ("aggregate_by_country_daily", &["country"][..]),
            View::Reporter => ("aggregate_by_reporter_daily", &["org_name"][..]),
        };
        by_key(backend, scope, table, keys)
    }
}

/// TLS-RPT sessions per result type and MX host: the successful ones (of
/// the policy as a whole: reports count them per policy, not per host) and
/// each failure detail's, its MX host named (`(unknown)` where the report
/// names none); most sessions first.
fn by_tls_result(backend: Backend, scope: &Scope) -> String {
    let (start, end) = scope.times(backend);
    let domain = &scope.domain;
    let within =
        format!("policy_domain = '{domain}' AND date_begin >= {start} AND date_begin < {end}");
    format!(
        "SELECT result, mx_host, sum(n) AS sessions FROM (\
         SELECT 'success' AS result, '(all)' AS mx_host, successful_sessions AS n \
         FROM tlsrpt_policies WHERE {within} \
         UNION ALL SELECT {result} AS result, \
         CASE WHEN receiving_mx_hostname = '' THEN '(unknown)' ELSE receiving_mx_hostname END AS mx_host, \
         failed_sessions AS n FROM tlsrpt_failures WHERE {within}\
         ) AS tls GROUP BY result, mx_host HAVING sessions > 0 \
         ORDER BY sessions DESC, result, mx_host LIMIT 100",
        result = backend.tls_result(),
    )
}

/// TLS-RPT sessions per reporting organisation (successful and failed, the
/// `(all)` row) and, within it, per sending MTA network of its failures
/// (the enrichment's AS name, else the address).
fn by_tls_source(backend: Backend, scope: &Scope) -> String {
    let (start, end) = scope.times(backend);
    let domain = &scope.domain;
    let within =
        format!("policy_domain = '{domain}' AND date_begin >= {start} AND date_begin < {end}");
    let ip = backend.ip_text("sending_mta_ip");
    format!(
        "SELECT reporter, sending_network, sum(ok) AS successful, sum(bad) AS failed FROM (\
         SELECT organization_name AS reporter, '(all)' AS sending_network, \
         successful_sessions AS ok, failed_sessions AS bad FROM tlsrpt_policies WHERE {within} \
         UNION ALL SELECT organization_name AS reporter, \
         CASE WHEN sending_mta_as_name != '' THEN sending_mta_as_name \
         WHEN {ip} != '' THEN {ip} ELSE '(unknown)' END AS sending_network, \
         {zero} AS ok, failed_sessions AS bad FROM tlsrpt_failures WHERE {within}\
         ) AS tls GROUP BY reporter, sending_network HAVING successful + failed > 0 \
         ORDER BY reporter, sending_network = '(all)' DESC, failed DESC, sending_network LIMIT 200",
        zero = backend.zero_count(),
    )
}

/// A view of the enrichment: per key, messages, DMARC pass/fail and rate,
/// quarantined and rejected; biggest first. An unknown key ('' or AS 0)
/// shows as `(unknown)`.
fn by_key(backend: Backend, scope: &Scope, table: &str, keys: &[&str]) -> String {
    let day_filter = scope.days(backend);
    // Aliased apart from the columns (see by_source).
    let alias = |k: &str| match k {
        "base_domain" => "host",
        "sender_name" => "sender",
        "sender_type" => "kind",
        "asn" => "as_number",
        "as_name" => "as_organisation",
        "country" => "country_code",
        _ => "reporter",
    };
    let shown: Vec<String> = keys
        .iter()
        .map(|k| {
            let (text, empty) = match *k {
                "asn" => (backend.text("asn"), "'0'"),
                k => (k.to_owned(), "''"),
            };
            format!(
                "CASE WHEN {text} = {empty} THEN '(unknown)' ELSE {text} END AS {}",
                alias(k)
            )
        })
        .collect();
    let names: Vec<&str> = keys.iter().map(|k| alias(k)).collect();
    format!(
        "SELECT {shown}, sum(messages) AS total, sum(dmarc_pass) AS pass, \
         sum(dmarc_fail) AS fail, round(100.0 * sum(dmarc_pass) / sum(messages), 1) AS pass_pct, \
         sum(disposition_quarantine) AS quarantined, sum(disposition_reject) AS rejected \
         FROM {table} WHERE policy_domain = '{domain}' AND {day_filter} \
         GROUP BY {group} HAVING total > 0 ORDER BY total DESC, {group} LIMIT 100",
        shown = shown.join(", "),
        group = names.join(", "),
        domain = scope.domain
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(1_704_067_200), "2024-01-01");
        assert_eq!(day(951_782_400), "2000-02-29");
        for text in ["1970-01-01", "2024-01-01", "2000-02-29", "2023-12-31"] {
            assert_eq!(day_seconds(text).map(day).as_deref(), Some(text));
        }
        assert_eq!(day_seconds("2024-13-01"), None);
    }

    #[test]
    fn views() {
        let scope =
            Scope::new("example.com", "2024-01-01", "2024-01-31").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(View::parse("network"), Some(View::Network));
        assert_eq!(View::parse("nope"), None);
        let sql = View::Network.sql(Backend::Sqlite, &scope);
        assert!(sql.starts_with(
            "SELECT CASE WHEN CAST(asn AS TEXT) = '0' THEN '(unknown)' ELSE CAST(asn AS TEXT) END AS as_number, \
             CASE WHEN as_name = '' THEN '(unknown)' ELSE as_name END AS as_organisation, sum(messages)"
        ), "{sql}");
        assert!(sql.contains("FROM aggregate_by_network_daily WHERE policy_domain = 'example.com'"));
    }

    #[test]
    fn scope_is_validated() {
        assert!(Scope::new("example.com", "2024-01-01", "2024-01-31").is_ok());
        assert!(Scope::new("x' OR 1=1", "2024-01-01", "2024-01-31").is_err());
        assert!(Scope::new("example.com", "2024-1-1", "2024-01-31").is_err());
    }
}
