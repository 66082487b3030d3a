//! Shared by the store tests: the shared corpus parsed into reports, the
//! totals every store must end up with, and generated reports.

use std::collections::BTreeMap;

use dmarcflow_ingest::files::{discover, FilesSource, Found};
use dmarcflow_schemas::aggregate::{AggregateReport, DmarcResult, Record};
use dmarcflow_schemas::{Ingested, Report};

use crate::summary::day;

pub use dmarcflow_testkit::corpus::root as corpus_root;

/// Every report of the corpus, in discovery order.
pub fn corpus_reports() -> Option<Vec<Ingested<'static>>> {
    let root = corpus_root()?;
    let inputs = discover(&[root]).ok()?;
    let source = FilesSource::default();
    let mut out = Vec::new();
    for input in &inputs {
        let _ = source.read(input, 1_700_000_000, |found| {
            if let Found::Report(r) = found {
                out.push(r);
            }
            Ok::<(), ()>(())
        });
    }
    Some(out)
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

/// A made-up report with `records` records, for tests of parts and retries.
pub fn generated(id_seed: u32, records: usize) -> AggregateReport<'static> {
    let mut r = AggregateReport::empty();
    r.metadata.org_name = "test.example".into();
    r.metadata.email = "dmarc@test.example".into();
    r.metadata.report_id = format!("generated-{id_seed}").into();
    r.metadata.begin = 1_704_067_200; // 2024-01-01
    r.metadata.end = 1_704_153_599;
    r.policy_published.domain = "generated.example".into();
    r.records = (0..records)
        .map(|i| Record {
            source_ip: format!("198.51.100.{}", i % 250).into(),
            count: 1 + (i as u64 % 7),
            disposition: Some(dmarcflow_schemas::aggregate::Disposition::None),
            dkim: Some(if i % 3 == 0 {
                DmarcResult::Fail
            } else {
                DmarcResult::Pass
            }),
            spf: Some(DmarcResult::Pass),
            header_from: "generated.example".into(),
            ..Record::default()
        })
        .collect();
    r.id = AggregateReport::compute_id(&r.metadata, &r.policy_published);
    r
}

/// `report` cut into parts of `size` records.
pub fn in_parts(report: &AggregateReport<'static>, size: usize) -> Vec<Ingested<'static>> {
    report
        .clone()
        .split(size)
        .into_iter()
        .map(ingested)
        .collect()
}

pub fn ingested(report: AggregateReport<'static>) -> Ingested<'static> {
    Ingested {
        report: Report::Aggregate(report),
        origin: "generated".into(),
        received_at: 1_704_153_600,
        reporter: None,
    }
}

/// Asserts that `store` holds exactly what `totals` says: one copy of every
/// report and record, and daily aggregations equal to the parsed totals.
pub async fn assert_stored(store: &crate::Store, t: &Totals) {
    use crate::summary::Backend;
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
