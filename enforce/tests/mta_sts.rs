//! MTA-STS readiness from TLS reports on real stores (SQLite, and
//! ClickHouse at `$DMARCFLOW_CLICKHOUSE_URL`: a skip without it outside CI,
//! a failure under CI): fifteen clean days of a `testing` policy are ready
//! to enforce; a failure in the window is a blocker naming its MX host,
//! result and senders; an `enforce` policy is enforced.

use dmarcflow_enforce::mta_sts::{assess, StsVerdict};
use dmarcflow_enforce::EnforcementConfig;
use dmarcflow_schemas::{Ingested, Report};
use dmarcflow_store::summary::Scope;
use dmarcflow_store::{Store, StoreConfig};
use dmarcflow_testkit::clickhouse::both_stores;

/// One day's TLS report from `org` for `domain` (`day`: 1-30 of November
/// 2026) under `mode`, with `ok` sessions and the failures given.
fn report(
    org: &str,
    domain: &str,
    day: u32,
    mode: &str,
    ok: u64,
    failures: &[(&str, &str, u64)],
) -> Ingested<'static> {
    let details: Vec<String> = failures
        .iter()
        .map(|(mx, result, n)| {
            format!(
                r#"{{"result-type": "{result}", "sending-mta-ip": "198.51.100.{day}", "receiving-mx-hostname": "{mx}", "failed-session-count": {n}}}"#
            )
        })
        .collect();
    let failed: u64 = failures.iter().map(|f| f.2).sum();
    let json = format!(
        r#"{{"organization-name": "{org}", "date-range": {{"start-datetime": "2026-11-{day:02}T00:00:00Z", "end-datetime": "2026-11-{day:02}T23:59:59Z"}},
        "contact-info": "tls@{org}.example", "report-id": "{org}-{domain}-{day}",
        "policies": [{{"policy": {{"policy-type": "sts", "policy-string": ["version: STSv1", "mode: {mode}", "mx: *.{domain}", "max_age: 86400"], "policy-domain": "{domain}", "mx-host": ["*.{domain}"]}},
        "summary": {{"total-successful-session-count": {ok}, "total-failure-session-count": {failed}}},
        "failure-details": [{}]}}]}}"#,
        details.join(", ")
    );
    let parsed = dmarcflow_parse::tlsrpt::parse_tlsrpt(json.as_bytes())
        .unwrap_or_else(|e| panic!("{e:?}\n{json}"))
        .into_owned();
    Ingested {
        report: Report::Tlsrpt(parsed),
        origin: "test".into(),
        received_at: 1_796_000_000,
        reporter: None,
    }
}

async fn check(config: &StoreConfig) {
    let mut store = Store::open(config).await.unwrap_or_else(|e| panic!("{e}"));
    let mut reports = Vec::new();
    for day in 1..=15 {
        reports.push(report(
            "sender-a",
            "ready.example",
            day,
            "testing",
            100,
            &[],
        ));
        reports.push(report(
            "sender-a",
            "blocked.example",
            day,
            "testing",
            100,
            &[],
        ));
        reports.push(report(
            "sender-a",
            "enforced.example",
            day,
            "enforce",
            100,
            &[],
        ));
    }
    reports.push(report(
        "sender-b",
        "blocked.example",
        12,
        "testing",
        50,
        &[("mx2.blocked.example", "certificate-expired", 4)],
    ));
    reports.push(report(
        "sender-c",
        "blocked.example",
        14,
        "testing",
        50,
        &[("mx2.blocked.example", "certificate-expired", 2)],
    ));
    store
        .write(&reports)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let config = EnforcementConfig::default();
    let scope =
        |d: &str| Scope::new(d, "2026-11-01", "2026-11-15").unwrap_or_else(|e| panic!("{e}"));

    let ready = assess(&store, &scope("ready.example"), &config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ready.verdict, StsVerdict::Ready, "{ready:#?}");
    assert_eq!(ready.mode.as_deref(), Some("testing"));
    assert_eq!(
        (ready.days_observed, ready.sessions, ready.window_sessions),
        (15, 1500, 1400)
    );
    assert_eq!(ready.window_from, "2026-11-02");
    assert_eq!(
        ready.summary(),
        "MTA-STS: ready to enforce (mode testing): no failure since 2026-11-02 over 1400 sessions"
    );

    let blocked = assess(&store, &scope("blocked.example"), &config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(blocked.verdict, StsVerdict::NotReady);
    assert_eq!(blocked.failures, 6);
    assert_eq!(
        blocked.blockers.iter().map(|b| b.text()).collect::<Vec<_>>(),
        ["mx2.blocked.example: certificate-expired seen by 2 senders since 2026-11-12 (6 sessions)"]
    );

    let enforced = assess(&store, &scope("enforced.example"), &config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(enforced.verdict, StsVerdict::Enforced);

    let none = assess(&store, &scope("other.example"), &config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(none.verdict, StsVerdict::NoPolicy);
}

#[tokio::test]
async fn readiness_on_sqlite_and_clickhouse() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for store in both_stores(dir.path(), "mta_sts_readiness").await {
        check(&store).await;
    }
}
