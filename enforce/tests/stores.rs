//! The assessment from real stores: the same reports written to SQLite and
//! to ClickHouse (`$DMARCFLOW_CLICKHOUSE_URL`; a skip without it outside
//! CI, a failure under CI) give the same classes, numbers and verdict.

use dmarcflow_enforce::{assess, classes_by_address, EnforcementConfig, SourceClass, Verdict};
use dmarcflow_schemas::aggregate::{
    AggregateReport, DkimAuth, DkimResult, DmarcResult, OverrideReason, PolicyAction,
    PolicyOverride, Record, SpfAuth, SpfResult,
};
use dmarcflow_schemas::Source;
use dmarcflow_senders::SenderMap;
use dmarcflow_store::summary::Scope;
use dmarcflow_store::{Store, StoreConfig};
use dmarcflow_testkit::clickhouse::both_stores;
use dmarcflow_testkit::reports::ingested;

fn named(name: &str, kind: &str) -> Option<Box<Source>> {
    Some(Box::new(Source {
        name: Some(name.into()),
        kind: Some(kind.into()),
        identified_by: Some("ptr".into()),
        ..Source::default()
    }))
}

fn record(ip: &str, count: u64, aligned: (bool, bool), raw: &[(&str, bool)]) -> Record<'static> {
    let result = |pass: bool| {
        Some(if pass {
            DmarcResult::Pass
        } else {
            DmarcResult::Fail
        })
    };
    let mut r = Record {
        source_ip: ip.to_owned().into(),
        count,
        dkim: result(aligned.0),
        spf: result(aligned.1),
        header_from: "example.com".into(),
        ..Record::default()
    };
    for (domain, pass) in raw {
        r.dkim_results.push(DkimAuth {
            domain: domain.to_string().into(),
            selector: None,
            result: if *pass {
                DkimResult::Pass
            } else {
                DkimResult::Fail
            },
            human_result: None,
        });
        r.spf_results.push(SpfAuth {
            domain: domain.to_string().into(),
            scope: None,
            result: if *pass {
                SpfResult::Pass
            } else {
                SpfResult::Fail
            },
            human_result: None,
        });
    }
    r
}

/// A month of example.com at p=none: Google aligned, SendGrid passing for
/// sendgrid.net only, a spoofer, a mailing list, Mailchimp unnamed.
fn report() -> AggregateReport<'static> {
    let mut r = AggregateReport::empty();
    r.metadata.org_name = "Receiver".into();
    r.metadata.email = "dmarc@receiver.example".into();
    r.metadata.report_id = "enforce-1".into();
    r.metadata.begin = 1_704_067_200; // 2024-01-01
    r.metadata.end = 1_704_153_599;
    r.policy_published.domain = "example.com".into();
    r.policy_published.p = Some(PolicyAction::None);
    let mut google = record("192.0.2.1", 1000, (true, true), &[("example.com", true)]);
    google.source = named("Google", "email provider");
    let mut sendgrid = record("192.0.2.2", 300, (false, false), &[("sendgrid.net", true)]);
    sendgrid.source = named("SendGrid", "esp");
    let spoofer = record("203.0.113.9", 50, (false, false), &[]);
    let mut list = record(
        "198.51.100.7",
        20,
        (false, false),
        &[("example.com", false)],
    );
    list.reasons.push(PolicyOverride {
        kind: Some(OverrideReason::MailingList),
        comment: None,
    });
    // Stored without enrichment: named by the catalogue from its passing
    // d=mcsv.net.
    let mailchimp = record(
        "192.0.2.9",
        70,
        (false, false),
        &[("bounce.mcsv.net", true)],
    );
    r.records = vec![google, sendgrid, spoofer, list, mailchimp];
    r.id = AggregateReport::compute_id(&r.metadata, &r.policy_published);
    r
}

async fn check(config: &StoreConfig) {
    let mut store = Store::open(config).await.unwrap_or_else(|e| panic!("{e}"));
    store
        .write(&[ingested(report())])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let scope =
        Scope::new("example.com", "2024-01-01", "2024-01-31").unwrap_or_else(|e| panic!("{e}"));
    let a = assess(
        &store,
        &scope,
        &EnforcementConfig::default(),
        &SenderMap::builtin(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.policy.p, "none");
    assert_eq!(a.next_step.as_deref(), Some("p=quarantine; pct=25"));
    assert_eq!(a.verdict, Verdict::NotReady);
    assert_eq!(a.messages, 1440);
    assert_eq!(
        (
            a.would_lose.messages,
            a.would_block.messages,
            a.forwarded.messages
        ),
        (370, 50, 20)
    );
    let classes: Vec<(&str, SourceClass, u64)> = a
        .senders
        .iter()
        .map(|s| (s.sender.as_str(), s.class, s.messages))
        .collect();
    assert_eq!(
        classes,
        [
            ("Google", SourceClass::Aligned, 1000),
            ("SendGrid", SourceClass::Misaligned, 300),
            ("Mailchimp", SourceClass::Misaligned, 70),
            ("203.0.113.9", SourceClass::Unauthorised, 50),
            ("198.51.100.7", SourceClass::Forwarded, 20),
        ]
    );
    let by_address = classes_by_address(
        &store,
        &scope,
        &EnforcementConfig::default(),
        &SenderMap::builtin(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        by_address.get("192.0.2.2"),
        Some(&("SendGrid".to_owned(), SourceClass::Misaligned))
    );
    assert_eq!(
        by_address.get("203.0.113.9"),
        Some(&(String::new(), SourceClass::Unauthorised))
    );
    assert_eq!(
        by_address.get("192.0.2.9"),
        Some(&("Mailchimp".to_owned(), SourceClass::Misaligned))
    );
    assert_eq!(by_address.len(), 5);
    assert_eq!(a.blockers.len(), 2);
    assert!(
        a.blockers[1].fix.starts_with(
            "Mailchimp sends 70 messages as example.com signed d=bounce.mcsv.net that fail DMARC: Authenticate the domain in Mailchimp"
        ),
        "{}",
        a.blockers[1].fix
    );
    assert!(
        a.blockers[0].fix.starts_with(
            "SendGrid sends 300 messages as example.com signed d=sendgrid.net that fail DMARC: "
        ),
        "{}",
        a.blockers[0].fix
    );
}

#[tokio::test]
async fn sqlite_and_clickhouse_assess_alike() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for store in both_stores(dir.path(), "enforce").await {
        check(&store).await;
    }
}
