//! Shared by the store's integration tests: the totals every store must
//! end up with after storing a set of reports, the assertion that it does,
//! and a fresh ClickHouse database per test.
//!
//! ClickHouse is `$DMARCFLOW_CLICKHOUSE_URL` (default
//! `http://127.0.0.1:8123`; `.ci/run` starts one). Without a server the
//! tests skip, except under CI where that is a failure.

#![allow(dead_code)] // each test file uses its own part

use std::collections::BTreeMap;

use dmarcflow_schemas::aggregate::DmarcResult;
use dmarcflow_schemas::{Ingested, Report};
use dmarcflow_store::clickhouse::{connect, migrate, ClickHouseConfig, ClickHouseSink};
use dmarcflow_store::summary::day;
use dmarcflow_store::{Store, WriteSummary};
use dmarcflow_testkit::reports::corpus_reports;
use dmarcflow_testkit::services::{clickhouse_url, missing};

/// A fresh, migrated database `dmarcflow_test_<name>`, or None (skip).
pub async fn fresh(name: &str) -> Option<ClickHouseConfig> {
    let mut config = ClickHouseConfig::new(clickhouse_url());
    config.database = format!("dmarcflow_test_{name}");
    let (server, version) = match connect(&config).await {
        Ok(c) => c,
        Err(e) => {
            return missing(
                &format!("ClickHouse at {}: {e}", config.url),
                ".ci/run starts one",
            )
        }
    };
    let drop = format!("DROP DATABASE IF EXISTS {}", config.database);
    server
        .query(&drop)
        .execute()
        .await
        .unwrap_or_else(|e| panic!("{drop}: {e}"));
    migrate(&server, &config.database, version, None)
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    Some(config)
}

/// A sink on a fresh database, and the corpus; None to skip.
pub async fn corpus_sink(name: &str) -> Option<(ClickHouseSink, Vec<Ingested<'static>>)> {
    let config = fresh(name).await?;
    let reports = corpus_reports()?;
    let sink = ClickHouseSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Some((sink, reports))
}

/// Every report through the sink, 40 a batch.
pub async fn write_all(sink: &ClickHouseSink, reports: &[Ingested<'_>]) -> WriteSummary {
    let mut total = WriteSummary::default();
    for batch in reports.chunks(40) {
        total += sink
            .write(batch)
            .await
            .unwrap_or_else(|e| panic!("write: {e}"));
    }
    total
}

/// The numbers a store must show after storing `reports` (duplicates
/// counted once).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub aggregate_reports: u64,
    pub records: u64,
    pub failure_reports: u64,
    pub tls_reports: u64,
    pub tls_policies: u64,
    pub tls_failures: u64,
    /// (day, policy domain) -> [messages, dmarc pass, dkim aligned pass,
    /// spf aligned pass, rejected]
    pub by_day_domain: BTreeMap<(String, String), [u64; 5]>,
    /// (day, policy domain, result type) -> sessions
    pub tls_sessions: BTreeMap<(String, String, String), u64>,
}

pub fn totals(reports: &[Ingested<'_>]) -> Totals {
    let mut t = Totals::default();
    let mut seen = std::collections::HashSet::new();
    for item in reports {
        let part = match &item.report {
            Report::Aggregate(r) => r.first_record(),
            _ => 0,
        };
        if !seen.insert((item.report.id().to_owned(), part)) {
            continue;
        }
        match &item.report {
            Report::Aggregate(r) => {
                if r.is_final() {
                    t.aggregate_reports += 1;
                }
                t.records += r.records.len() as u64;
                let day = day(r.metadata.begin.max(0));
                for rec in &r.records {
                    let e = t
                        .by_day_domain
                        .entry((day.clone(), r.policy_published.domain.to_string()))
                        .or_default();
                    let pass = |v: &Option<DmarcResult<'_>>| {
                        v.as_ref().is_some_and(|x| x.as_str() == "pass")
                    };
                    let n = rec.count;
                    e[0] += n;
                    e[1] += if pass(&rec.dkim) || pass(&rec.spf) {
                        n
                    } else {
                        0
                    };
                    e[2] += if pass(&rec.dkim) { n } else { 0 };
                    e[3] += if pass(&rec.spf) { n } else { 0 };
                    e[4] += if rec
                        .disposition
                        .as_ref()
                        .is_some_and(|d| d.as_str() == "reject")
                    {
                        n
                    } else {
                        0
                    };
                }
            }
            Report::Failure(_) => t.failure_reports += 1,
            Report::Tlsrpt(r) => {
                t.tls_reports += 1;
                t.tls_policies += r.policies.len() as u64;
                let day = day(r.begin.max(0));
                for p in &r.policies {
                    t.tls_failures += p.failure_details.len() as u64;
                    let key = |result: &str| {
                        (day.clone(), p.policy_domain.to_string(), result.to_owned())
                    };
                    *t.tls_sessions.entry(key("success")).or_default() +=
                        p.total_successful_session_count;
                    for d in &p.failure_details {
                        *t.tls_sessions
                            .entry(key(d.result_type.as_str()))
                            .or_default() += d.failed_session_count;
                    }
                }
            }
        }
    }
    t.by_day_domain.retain(|_, v| v[0] > 0);
    t.tls_sessions.retain(|_, v| *v > 0);
    t
}

/// Asserts that `store` holds exactly what `totals` says: one copy of every
/// report and record, and daily aggregations equal to the parsed totals.
pub async fn assert_stored(store: &Store, t: &Totals) {
    use dmarcflow_store::summary::Backend;
    let ch = store.backend() == Backend::ClickHouse;
    let one = |sql: String| async move {
        let table = store
            .query(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        table.rows[0][0].parse::<u64>().unwrap_or(u64::MAX)
    };
    let count = |table: &str| {
        format!("SELECT count() AS n FROM {table}")
            .replace("count()", if ch { "count()" } else { "count(*)" })
    };
    assert_eq!(
        one(count("aggregate_reports")).await,
        t.aggregate_reports,
        "aggregate_reports"
    );
    assert_eq!(
        one(count("aggregate_records")).await,
        t.records,
        "aggregate_records"
    );
    assert_eq!(
        one(count("failure_reports")).await,
        t.failure_reports,
        "failure_reports"
    );
    assert_eq!(
        one(count("tlsrpt_reports")).await,
        t.tls_reports,
        "tlsrpt_reports"
    );
    assert_eq!(
        one(count("tlsrpt_policies")).await,
        t.tls_policies,
        "tlsrpt_policies"
    );
    assert_eq!(
        one(count("tlsrpt_failures")).await,
        t.tls_failures,
        "tlsrpt_failures"
    );
    let distinct = |sql: &str| sql.replace("count()", if ch { "count()" } else { "count(*)" });
    assert_eq!(
        one(distinct("SELECT count() FROM (SELECT report_id, record_index FROM aggregate_records GROUP BY report_id, record_index HAVING count() > 1)")).await,
        0,
        "a record stored twice"
    );
    assert_eq!(
        one(distinct("SELECT count() FROM (SELECT report_id FROM aggregate_reports GROUP BY report_id HAVING count() > 1)")).await,
        0,
        "a report stored twice"
    );

    // ClickHouse 18.16 prints day 0 (1970-01-01) as 0000-00-00.
    let day = if ch {
        "if(day = toDate(0), '1970-01-01', toString(day))"
    } else {
        "day"
    };
    // Per source and the five views of the enrichment: the same sums.
    for table in [
        "aggregate_by_source_daily",
        "aggregate_by_host_daily",
        "aggregate_by_sender_daily",
        "aggregate_by_network_daily",
        "aggregate_by_country_daily",
        "aggregate_by_reporter_daily",
    ] {
        let rows = store
            .query(&format!(
                "SELECT {day} AS d, policy_domain, sum(messages) AS m, sum(dmarc_pass), \
                 sum(dkim_aligned_pass), sum(spf_aligned_pass), sum(disposition_reject) \
                 FROM {table} GROUP BY d, policy_domain HAVING m > 0"
            ))
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        let sums: BTreeMap<(String, String), [u64; 5]> = rows
            .rows
            .iter()
            .map(|r| {
                let n = |i: usize| r[i].parse::<u64>().unwrap_or(u64::MAX);
                ((r[0].clone(), r[1].clone()), [n(2), n(3), n(4), n(5), n(6)])
            })
            .collect();
        assert_eq!(sums, t.by_day_domain, "{table}");
    }

    let rows = store
        .query(&format!(
            "SELECT {day} AS d, policy_domain, sum(messages) AS m FROM aggregate_by_result_daily \
             GROUP BY d, policy_domain HAVING m > 0"
        ))
        .await
        .unwrap_or_else(|e| panic!("by result: {e}"));
    let by_result: BTreeMap<(String, String), u64> = rows
        .rows
        .iter()
        .map(|r| {
            (
                (r[0].clone(), r[1].clone()),
                r[2].parse().unwrap_or(u64::MAX),
            )
        })
        .collect();
    let expected: BTreeMap<(String, String), u64> = t
        .by_day_domain
        .iter()
        .map(|(k, v)| (k.clone(), v[0]))
        .collect();
    assert_eq!(by_result, expected, "aggregate_by_result_daily");

    let rows = store
        .query(&format!(
            "SELECT {day} AS d, policy_domain, result_type, sum(sessions) AS s \
             FROM tlsrpt_by_result_daily GROUP BY d, policy_domain, result_type HAVING s > 0"
        ))
        .await
        .unwrap_or_else(|e| panic!("tls by result: {e}"));
    let tls: BTreeMap<(String, String, String), u64> = rows
        .rows
        .iter()
        .map(|r| {
            (
                (r[0].clone(), r[1].clone(), r[2].clone()),
                r[3].parse().unwrap_or(u64::MAX),
            )
        })
        .collect();
    assert_eq!(tls, t.tls_sessions, "tlsrpt_by_result_daily");
}

/// Two failure reports stored in clear, their personal columns read back,
/// replaced by protected ones, and read back again: what `dmarcflow
/// privacy apply` does, on either store.
pub async fn personal_columns_are_replaced_once(store: &mut Store) {
    use dmarcflow_schemas::failure::{FailureReport, FeedbackType, Personal};
    use dmarcflow_store::PersonalRow;
    use std::borrow::Cow;
    let reports: Vec<Ingested<'static>> = (1..=2)
        .map(|n| {
            let mut r = FailureReport::new(FeedbackType::AuthFailure);
            r.id = format!("failure-{n}");
            r.reported_domain = vec![Cow::Borrowed("example.com")];
            r.original_mail_from = Some(Cow::Owned(format!("alice{n}@example.com")));
            r.original_rcpt_to = vec![
                Cow::Borrowed("bob@example.net"),
                Cow::Borrowed("carol@example.net"),
            ];
            r.original_subject = Some(Cow::Borrowed("It's a \"quoted\"\tsubject\\"));
            r.sample = Some(Cow::Borrowed(
                "Subject: x\r\nAuthentication-Results: mx; spf=fail\r\n\r\nbody\r\n",
            ));
            Ingested {
                report: Report::Failure(r),
                origin: "test".into(),
                received_at: 1_700_000_000,
                reporter: None,
            }
        })
        .collect();
    store
        .write(&reports)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let clear = store
        .clear_failure_reports(10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(clear.len(), 2);
    assert_eq!(
        clear[0].original_rcpt_to,
        ["bob@example.net", "carol@example.net"]
    );
    assert_eq!(clear[0].original_subject, "It's a \"quoted\"\tsubject\\");
    assert_eq!(clear[1].original_mail_from, "alice2@example.com");
    assert_eq!(clear[0].personal, Personal::Clear);
    let protected: Vec<PersonalRow> = clear
        .iter()
        .map(|row| PersonalRow {
            original_mail_from: format!("0123456789abcdef@example.com ({})", row.report_id),
            original_rcpt_to: vec!["fedcba9876543210@example.net".into()],
            original_subject: String::new(),
            sample: "Authentication-Results: mx; spf=fail\r\n".into(),
            personal: Personal::Sealed,
            sealed: "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"
                .into(),
            ..row.clone()
        })
        .collect();
    store
        .replace_personal(&protected)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let left = store
        .clear_failure_reports(10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(left.is_empty(), "{left:?}");
    for row in &protected {
        let read = store
            .failure_report_personal(&row.report_id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.as_ref(), Some(row));
    }
    // Rows no longer clear are left alone.
    let mut again = protected.clone();
    again[0].original_mail_from = "changed@example.com".into();
    store
        .replace_personal(&again)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let read = store
        .failure_report_personal(&protected[0].report_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.as_ref(), Some(&protected[0]));
}
