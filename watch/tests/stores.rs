//! A watch round against real stores (SQLite, and ClickHouse at
//! `$DMARCFLOW_CLICKHOUSE_URL`: a skip without it outside CI, a failure
//! under CI): the domain the reports name and a configured one are
//! checked, with the DKIM selector the reports show signing and a
//! configured one, given the enforcement verdict of the reports, stored,
//! read back; a second round after the DNS changed gives the changes the
//! alert rules fire on. The DNS is an in-memory zone (the posture crate's
//! tests run against Knot).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use dmarcflow_enforce::EnforcementConfig;
use dmarcflow_posture::dns::Lookup;
use dmarcflow_posture::{trust, Clients, Dns, Https, SelectorSource};
use dmarcflow_schemas::aggregate::{
    AggregateReport, DkimAuth, DkimResult, DmarcResult, PolicyAction, Record,
};
use dmarcflow_senders::SenderMap;
use dmarcflow_store::{Store, StoreConfig};
use dmarcflow_testkit::clickhouse::both_stores;
use dmarcflow_testkit::reports::ingested;
use dmarcflow_watch::{changes, latest, round, ChangeRule, WatchConfig};

/// TXT records by name; nothing else exists.
#[derive(Default)]
struct Zone(Mutex<HashMap<String, Vec<String>>>);

impl Zone {
    fn set(&self, name: &str, texts: &[&str]) {
        if let Ok(mut z) = self.0.lock() {
            z.insert(
                name.to_owned(),
                texts.iter().map(|t| (*t).to_owned()).collect(),
            );
        }
    }
}

impl Dns for Zone {
    async fn txt(&self, name: &str) -> Lookup<Vec<String>> {
        let found = self.0.lock().ok().and_then(|z| z.get(name).cloned());
        found
            .filter(|t| !t.is_empty())
            .map_or(Lookup::Absent, Lookup::Found)
    }

    async fn mx(&self, _: &str) -> Lookup<Vec<(u16, String)>> {
        Lookup::Absent
    }

    async fn addresses(&self, _: &str) -> Lookup<Vec<IpAddr>> {
        Lookup::Absent
    }

    async fn ptr(&self, _: IpAddr) -> Lookup<Vec<String>> {
        Lookup::Absent
    }
}

const KEY: &str = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

/// example.com's January 2024 at p=none: its own mail signed d=example.com
/// s=s1, and a spoofer.
fn report() -> AggregateReport<'static> {
    let mut r = AggregateReport::empty();
    r.metadata.org_name = "Receiver".into();
    r.metadata.email = "dmarc@receiver.example".into();
    r.metadata.report_id = "watch-1".into();
    r.metadata.begin = 1_704_067_200; // 2024-01-01
    r.metadata.end = 1_704_153_599;
    r.policy_published.domain = "example.com".into();
    r.policy_published.p = Some(PolicyAction::None);
    let mut own = Record {
        source_ip: "192.0.2.1".into(),
        count: 900,
        dkim: Some(DmarcResult::Pass),
        spf: Some(DmarcResult::Pass),
        header_from: "example.com".into(),
        ..Record::default()
    };
    own.dkim_results.push(DkimAuth {
        domain: "example.com".into(),
        selector: Some("s1".into()),
        result: DkimResult::Pass,
        human_result: None,
    });
    let spoofer = Record {
        source_ip: "203.0.113.9".into(),
        count: 100,
        dkim: Some(DmarcResult::Fail),
        spf: Some(DmarcResult::Fail),
        header_from: "example.com".into(),
        ..Record::default()
    };
    r.records = vec![own, spoofer];
    r.id = AggregateReport::compute_id(&r.metadata, &r.policy_published);
    r
}

async fn check(config: &StoreConfig) {
    let mut store = Store::open(config).await.unwrap_or_else(|e| panic!("{e}"));
    store
        .write(&[ingested(report())])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let zone = Zone::default();
    zone.set("example.com", &["v=spf1 ip4:192.0.2.1 -all"]);
    zone.set(
        "_dmarc.example.com",
        &["v=DMARC1; p=none; rua=mailto:d@example.com"],
    );
    zone.set("s1._domainkey.example.com", &[KEY]);
    let roots = trust::roots(None).unwrap_or_else(|e| panic!("{e}"));
    let clients = Clients {
        https: Https::new(roots, Duration::from_secs(1), 443).unwrap_or_else(|e| panic!("{e}")),
        smtp: None,
    };
    let watch = WatchConfig {
        domains: vec!["Configured.Test.".into()],
        dkim_selectors: vec!["extra".into()],
        ..WatchConfig::default()
    };
    let now = 1_705_708_800; // 2024-01-20
    let (enforcement, catalogue) = (EnforcementConfig::default(), SenderMap::builtin());
    let first = round(
        &mut store,
        &watch,
        &zone,
        &clients,
        &enforcement,
        &catalogue,
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let domains: Vec<&str> = first.iter().map(|p| p.domain.as_str()).collect();
    assert_eq!(domains, ["example.com", "configured.test"]);
    let keys: Vec<(&str, SelectorSource, bool)> = first[0]
        .dkim
        .iter()
        .map(|k| (k.selector.as_str(), k.source, k.published))
        .collect();
    assert_eq!(
        keys,
        [
            ("s1", SelectorSource::Reports, true),
            ("extra", SelectorSource::Configured, false)
        ]
    );
    let verdict = first[0].enforcement.as_ref().map(|e| e.verdict.as_str());
    assert_eq!(
        verdict,
        Some("ready"),
        "its own mail aligns; the rest is a spoofer"
    );
    assert_eq!(first[1].enforcement, None);

    let stored = latest(&store, 2).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.len(), 2);
    let example = &stored["example.com"][0];
    assert_eq!(example.score, first[0].score);
    assert_eq!(
        example.dmarc_record,
        "v=DMARC1; p=none; rua=mailto:d@example.com"
    );
    assert_eq!(example.dmarc_policy, "none");
    assert_eq!(example.enforcement, "ready");
    assert_eq!(example.dkim[0].record, KEY);
    assert_eq!(example.dkim[1].state, "missing");
    assert_eq!(example.findings.len(), first[0].findings.len());
    assert_eq!(changes(&stored, now, &|_| 14), []);

    // The owner moves to reject and drops the key still in use.
    zone.set(
        "_dmarc.example.com",
        &["v=DMARC1; p=reject; rua=mailto:d@example.com"],
    );
    zone.set("s1._domainkey.example.com", &[]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    round(
        &mut store,
        &watch,
        &zone,
        &clients,
        &enforcement,
        &catalogue,
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let stored = latest(&store, 2).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored["example.com"].len(), 2);
    let found = changes(&stored, now, &|_| 14);
    let messages: Vec<(ChangeRule, &str)> = found
        .iter()
        .filter(|c| c.domain == "example.com")
        .map(|c| (c.rule, c.message.as_str()))
        .collect();
    assert!(messages.contains(&(
        ChangeRule::RecordChanged,
        "_dmarc.example.com (DMARC) changed: \"v=DMARC1; p=none; rua=mailto:d@example.com\" -> \"v=DMARC1; p=reject; rua=mailto:d@example.com\""
    )), "{messages:#?}");
    assert!(messages.contains(&(
        ChangeRule::DkimKeyDisappeared,
        "the DKIM key s1._domainkey.example.com, seen signing in reports, is no longer published: mail signed with it fails DKIM"
    )), "{messages:#?}");
}

#[tokio::test]
async fn a_round_stored_and_compared_in_sqlite_and_clickhouse() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for store in both_stores(dir.path(), "watch").await {
        check(&store).await;
    }
}
