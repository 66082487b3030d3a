//! Alerts against a real store (SQLite, and the ClickHouse server of the
//! tests: `DMARCFLOW_CLICKHOUSE_URL`, required under CI) filled with
//! made-up reports whose conditions are known: every rule fires where it should and nowhere
//! else, once; it resolves when the condition clears; the state survives
//! a new process (the store reopened); the quiet period holds back a
//! condition that flaps; webhooks (a test HTTP server) get the JSON and
//! the Slack-compatible text.

use std::sync::{Arc, Mutex};

use dmarcflow_alerts::{evaluate, AlertsConfig, Thresholds, Webhook, WebhookFormat};
use dmarcflow_schemas::aggregate::{AggregateReport, DmarcResult, PolicyAction, Record};
use dmarcflow_schemas::failure::{FailureReport, FeedbackType};
use dmarcflow_schemas::tlsrpt::{FailureDetail, PolicyType, ResultType, TlsPolicy, TlsReport};
use dmarcflow_schemas::{Ingested, Report};
use dmarcflow_store::{Store, StoreConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DAY: i64 = 86_400;
/// 2024-01-01.
const JAN1: i64 = 1_704_067_200;

fn aggregate(
    id: &str,
    day: i64,
    p: PolicyAction<'static>,
    rows: &[(&str, u64, bool)],
) -> Ingested<'static> {
    aggregate_of("example.com", id, day, p, rows)
}

fn aggregate_of(
    domain: &str,
    id: &str,
    day: i64,
    p: PolicyAction<'static>,
    rows: &[(&str, u64, bool)],
) -> Ingested<'static> {
    let mut r = AggregateReport::empty();
    r.metadata.org_name = "Mail Co".into();
    r.metadata.email = "dmarc@mail.example".into();
    r.metadata.report_id = id.to_owned().into();
    r.metadata.begin = day;
    r.metadata.end = day + DAY - 1;
    r.policy_published.domain = domain.to_owned().into();
    r.policy_published.p = Some(p);
    r.records = rows
        .iter()
        .map(|(ip, count, pass)| Record {
            source_ip: (*ip).to_owned().into(),
            count: *count,
            dkim: Some(if *pass {
                DmarcResult::Pass
            } else {
                DmarcResult::Fail
            }),
            spf: Some(DmarcResult::Fail),
            header_from: domain.to_owned().into(),
            ..Record::default()
        })
        .collect();
    r.id = AggregateReport::compute_id(&r.metadata, &r.policy_published);
    ingested(Report::Aggregate(r))
}

fn ingested(report: Report<'static>) -> Ingested<'static> {
    Ingested {
        report,
        origin: "test".into(),
        received_at: JAN1,
        reporter: None,
    }
}

fn tls(id: &str, day: i64, failures: &[(ResultType<'static>, u64)]) -> Ingested<'static> {
    let mut r = TlsReport::empty();
    r.organization_name = "Mail Co".into();
    r.report_id = id.to_owned().into();
    r.begin = day;
    r.end = day + DAY - 1;
    r.policies = vec![TlsPolicy {
        policy_type: PolicyType::Sts,
        policy_string: Vec::new(),
        policy_domain: "example.com".into(),
        mx_host: Vec::new(),
        total_successful_session_count: 1000,
        total_failure_session_count: failures.iter().map(|f| f.1).sum(),
        failure_details: failures
            .iter()
            .map(|(kind, n)| FailureDetail {
                result_type: kind.clone(),
                sending_mta_ip: None,
                receiving_mx_hostname: None,
                receiving_mx_helo: None,
                receiving_ip: None,
                failed_session_count: *n,
                additional_information: None,
                failure_reason_code: None,
                sending_mta_source: None,
                receiving_source: None,
            })
            .collect(),
    }];
    r.id = r.compute_id();
    ingested(Report::Tlsrpt(r))
}

fn failure(id: &str, at: i64) -> Ingested<'static> {
    let mut r = FailureReport::new(FeedbackType::AuthFailure);
    r.id = id.to_owned();
    r.reported_domain = vec!["example.com".into()];
    r.arrival_timestamp = Some(at);
    r.source_ip = Some("203.0.113.9".into());
    ingested(Report::Failure(r))
}

/// An HTTP server that answers 200 and keeps every body it was posted.
async fn webhook_server() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    webhook_server_refusing(Arc::new(Mutex::new(None))).await
}

/// The same, answering 500 (and keeping nothing) while a body contains
/// the text `refused` holds.
async fn webhook_server_refusing(
    refused: Arc<Mutex<Option<String>>>,
) -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}/hook",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            let mut answer: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&data);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|n| n.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        let refuse = refused
                            .lock()
                            .ok()
                            .and_then(|r| r.clone())
                            .is_some_and(|r| body.contains(&r));
                        if refuse {
                            answer =
                                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
                        } else if let (Ok(v), Ok(mut b)) = (serde_json::from_str(body), kept.lock())
                        {
                            b.push(v);
                        }
                        break;
                    }
                }
            }
            let _ = stream.write_all(answer).await;
        }
    });
    (url, bodies)
}

/// The stores to run on: SQLite, and ClickHouse when there is one (a
/// fresh, migrated database).
async fn stores(name: &str, dir: &std::path::Path) -> Vec<StoreConfig> {
    let mut out = vec![StoreConfig::Sqlite {
        path: dir.join(format!("{name}.db")),
    }];
    if let Some(clickhouse) =
        dmarcflow_testkit::clickhouse::fresh(&format!("dmarcflow_test_alerts_{name}")).await
    {
        out.push(clickhouse);
    }
    out
}

#[tokio::test]
async fn rules_fire_once_resolve_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for config_store in stores("rules", dir.path()).await {
        rules_on(&config_store).await;
    }
}

async fn rules_on(config_store: &StoreConfig) {
    let mut store = Store::open(config_store)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Two weeks of a healthy domain: two known senders, 99% passing,
    // policy none, TLS all well.
    let mut batch = Vec::new();
    for d in 0..14 {
        let day = JAN1 + d * DAY;
        batch.push(aggregate(
            &format!("base-{d}"),
            day,
            PolicyAction::None,
            &[
                ("192.0.2.1", 500, true),
                ("192.0.2.2", 490, true),
                ("192.0.2.2", 5, false),
            ],
        ));
        batch.push(tls(&format!("tls-{d}"), day, &[]));
    }
    // Day 15 (2024-01-15): a new spoofing source, the pass rate down, the
    // policy tightened, TLS failures of a new kind, failure reports.
    let day15 = JAN1 + 14 * DAY;
    batch.push(aggregate(
        "day15",
        day15,
        PolicyAction::Reject,
        &[
            ("192.0.2.1", 500, true),
            ("192.0.2.2", 400, true),
            ("198.51.100.66", 300, false),
        ],
    ));
    batch.push(tls(
        "tls-15",
        day15,
        &[(ResultType::CertificateExpired, 25)],
    ));
    batch.push(failure("ruf-1", day15 + 3600));
    batch.push(failure("ruf-2", day15 + 7200));
    store.write(&batch).await.unwrap_or_else(|e| panic!("{e}"));

    let (url, bodies) = webhook_server().await;
    let (slack_url, slack) = webhook_server().await;
    let config = AlertsConfig {
        webhooks: vec![
            Webhook {
                url,
                format: WebhookFormat::Json,
            },
            Webhook {
                url: slack_url,
                format: WebhookFormat::Slack,
            },
        ],
        ..AlertsConfig::default()
    };
    let now = day15 + DAY + 3600;
    let round = evaluate(&mut store, &config, "2024-01-15", now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut fired: Vec<(String, String)> = round
        .transitions
        .iter()
        .map(|t| (t.rule.clone(), t.subject.clone()))
        .collect();
    fired.sort();
    assert_eq!(
        fired,
        [
            ("failing_source".to_owned(), "198.51.100.66".to_owned()),
            ("failure_reports".into(), String::new()),
            ("new_source".into(), "198.51.100.66".into()),
            ("pass_rate_drop".into(), String::new()),
            ("policy_change".into(), "p=reject sp= pct= testing=".into()),
            ("tls_failures".into(), String::new()),
            ("tls_new_result_type".into(), "certificate-expired".into()),
        ],
        "{:#?}",
        round.transitions
    );
    let by_rule = |rule: &str| {
        round
            .transitions
            .iter()
            .find(|t| t.rule == rule)
            .map(|t| (t.message.clone(), t.value))
            .unwrap_or_default()
    };
    // 900 of 1200 pass (75.0%) against 990 of 995 (99.5%).
    let (message, points) = by_rule("pass_rate_drop");
    assert_eq!(
        message,
        "DMARC pass rate of example.com fell to 75.0% from 99.5% (24.5 points; 1200 messages)"
    );
    assert!((points - 24.497).abs() < 0.01, "{points}");
    assert_eq!(by_rule("failure_reports").1, 2.0);
    assert_eq!(by_rule("tls_failures").1, 25.0);
    assert_eq!(
        by_rule("policy_change").0,
        "the published policy of example.com changed: p=none sp= pct= testing= -> p=reject sp= pct= testing="
    );
    // The webhooks got one notification per transition.
    let posted = bodies.lock().map(|b| b.clone()).unwrap_or_default();
    assert_eq!(posted.len(), 7, "{posted:#?}");
    let spoof = posted
        .iter()
        .find(|b| b["rule"] == "failing_source")
        .cloned()
        .unwrap_or_default();
    assert_eq!(spoof["status"], "firing");
    assert_eq!(spoof["domain"], "example.com");
    assert_eq!(spoof["value"], 300.0);
    assert_eq!(
        spoof["message"],
        "198.51.100.66 failed DMARC for example.com in 300 of 300 messages"
    );
    // Slack got one text for the domain, a line per alert.
    let texts = slack.lock().map(|b| b.clone()).unwrap_or_default();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    let text = texts[0]["text"].as_str().unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert_eq!(lines[0], "*dmarcflow example.com*: 7 firing");
    assert!(
        lines.iter().any(|l| l
            .starts_with(":rotating_light: FIRING [new_source] new source 198.51.100.66")),
        "{text}"
    );

    // A new process (the store reopened), the same day again: nothing new.
    drop(store);
    let mut store = Store::open(config_store)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = evaluate(&mut store, &config, "2024-01-15", now + 600)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.transitions.is_empty(), "{:#?}", again.transitions);
    assert_eq!(again.firing, 7);

    // The next day the spoofing and the ruf stop; the source is no longer
    // new, TLS is well again; the pass rate is back; the policy stays.
    let day16 = day15 + DAY;
    store
        .write(&[
            aggregate(
                "day16",
                day16,
                PolicyAction::Reject,
                &[("192.0.2.1", 500, true), ("192.0.2.2", 490, true)],
            ),
            tls("tls-16", day16, &[]),
        ])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let next = evaluate(&mut store, &config, "2024-01-16", now + DAY)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let resolved: Vec<&str> = next.transitions.iter().map(|t| t.rule.as_str()).collect();
    assert_eq!(next.firing, 0, "{:#?}", next.transitions);
    assert_eq!(resolved.len(), 7, "{resolved:?}");
    assert!(next
        .transitions
        .iter()
        .all(|t| t.status.as_str() == "resolved" && t.notified));
    let posted = bodies.lock().map(|b| b.len()).unwrap_or_default();
    assert_eq!(posted, 14);
    let texts = slack.lock().map(|b| b.clone()).unwrap_or_default();
    assert_eq!(texts.len(), 2);
    assert!(texts[1]["text"]
        .as_str()
        .is_some_and(|t| t.starts_with("*dmarcflow example.com*: 7 resolved\n")));

    // Day 17: the spoofer comes back within the quiet period (6 h after
    // the resolution notice): firing again, but not notified.
    let day17 = day16 + DAY;
    store
        .write(&[aggregate(
            "day17",
            day17,
            PolicyAction::Reject,
            &[("198.51.100.66", 150, false), ("192.0.2.1", 5000, true)],
        )])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let flap = evaluate(&mut store, &config, "2024-01-17", now + DAY + 3600)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let spoof: Vec<_> = flap
        .transitions
        .iter()
        .filter(|t| t.rule == "failing_source")
        .collect();
    assert_eq!(spoof.len(), 1);
    assert!(!spoof[0].notified, "within the quiet period");
    assert_eq!(bodies.lock().map(|b| b.len()).unwrap_or_default(), 14);
}

/// Per-domain thresholds: a domain with the spoofing threshold raised
/// does not fire for the same volume.
#[tokio::test]
async fn thresholds_per_domain() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for config_store in stores("thresholds", dir.path()).await {
        thresholds_on(&config_store).await;
    }
}

async fn thresholds_on(config_store: &StoreConfig) {
    let mut store = Store::open(config_store)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .write(&[aggregate(
            "x",
            JAN1,
            PolicyAction::None,
            &[("198.51.100.66", 300, false)],
        )])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut config = AlertsConfig::default();
    config.domains.insert(
        "example.com".into(),
        Thresholds {
            failing_source_messages: 1000,
            new_source_messages: 0,
            ..Thresholds::default()
        },
    );
    let round = evaluate(&mut store, &config, "2024-01-01", JAN1 + DAY)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rules: Vec<&str> = round.transitions.iter().map(|t| t.rule.as_str()).collect();
    assert!(
        !rules.contains(&"failing_source") && !rules.contains(&"new_source"),
        "{rules:?}"
    );
}

/// A webhook refusing one domain's alerts: the other domain's are
/// recorded, the refused ones are not and come again next round, when
/// they go out; then nothing is left.
#[tokio::test]
async fn undelivered_alerts_come_again() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for config_store in stores("undelivered", dir.path()).await {
        undelivered_on(&config_store).await;
    }
}

async fn undelivered_on(config_store: &StoreConfig) {
    let mut store = Store::open(config_store)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = [("198.51.100.66", 300, false)];
    store
        .write(&[
            aggregate_of("example.com", "a", JAN1, PolicyAction::None, &rows),
            aggregate_of("example.org", "b", JAN1, PolicyAction::None, &rows),
        ])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = Arc::new(Mutex::new(Some("example.org".to_owned())));
    let (url, bodies) = webhook_server_refusing(refused.clone()).await;
    let config = AlertsConfig {
        webhooks: vec![Webhook {
            url,
            format: WebhookFormat::Json,
        }],
        defaults: Thresholds {
            new_source_messages: 0,
            // Both domains are ready for p=quarantine: not this test's.
            domain_ready: 0,
            ..Thresholds::default()
        },
        ..AlertsConfig::default()
    };
    let first = evaluate(&mut store, &config, "2024-01-01", JAN1 + DAY)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let domains = |round: &dmarcflow_alerts::Round| {
        let mut d: Vec<String> = round.transitions.iter().map(|t| t.domain.clone()).collect();
        d.sort();
        d
    };
    assert_eq!(domains(&first), ["example.com", "example.org"]);
    let failed: Vec<&str> = first
        .undelivered
        .iter()
        .map(|u| u.domain.as_str())
        .collect();
    assert_eq!(failed, ["example.org"]);
    assert!(
        first.undelivered[0]
            .error
            .to_string()
            .ends_with("answered 500"),
        "{}",
        first.undelivered[0].error
    );
    let posted = |b: &Arc<Mutex<Vec<serde_json::Value>>>| {
        b.lock()
            .map(|b| {
                b.iter()
                    .map(|v| v["domain"].to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(posted(&bodies), ["\"example.com\""]);

    // The webhook takes them now: only the refused domain's come again.
    if let Ok(mut r) = refused.lock() {
        *r = None;
    }
    let second = evaluate(&mut store, &config, "2024-01-01", JAN1 + DAY + 60)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(domains(&second), ["example.org"]);
    assert!(second.undelivered.is_empty());
    assert_eq!(second.firing, 2);
    assert_eq!(posted(&bodies), ["\"example.com\"", "\"example.org\""]);
    let third = evaluate(&mut store, &config, "2024-01-01", JAN1 + DAY + 120)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(third.transitions.is_empty(), "{:#?}", third.transitions);
}

/// E-mail through a real SMTP relay (Exim, .ci/exim.sh) into a real
/// mailbox (Dovecot, .ci/dovecot.sh), read back over IMAP: the subject
/// and the message of the alert. Needs DMARCFLOW_ALERTS_TEST_RELAY and the
/// IMAP settings; skips without them, except under CI.
#[tokio::test]
async fn alerts_are_mailed_through_a_relay_into_a_mailbox() {
    let Some(relay) = dmarcflow_testkit::services::mail_relay() else {
        return;
    };
    let (host, port) = (relay.dovecot.host.clone(), relay.dovecot.port.to_string());
    let mailbox = relay.mailbox.clone();
    let relay = relay.relay;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut store = Store::open(&StoreConfig::Sqlite {
        path: dir.path().join("mail.db"),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    // A source unique to this run, so the mailbox's older messages do not count.
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let spoofer = format!("198.51.100.{}", stamp % 250);
    let other = format!("203.0.113.{}", stamp / 250 % 250);
    store
        .write(&[aggregate(
            &format!("mail-{stamp}"),
            JAN1,
            PolicyAction::None,
            &[(&spoofer, 400, false), (&other, 150, false)],
        )])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let config = AlertsConfig {
        email: Some(dmarcflow_alerts::Email {
            relay,
            from: "dmarcflow@dmarcflow.test".into(),
            to: vec!["alerts@dmarcflow.test".into()],
            tls: dmarcflow_alerts::EmailTls::None,
            user: None,
            password: None,
        }),
        defaults: Thresholds {
            new_source_messages: 0,
            // The domain is ready for p=quarantine: not this test's.
            domain_ready: 0,
            ..Thresholds::default()
        },
        ..AlertsConfig::default()
    };
    let round = evaluate(
        &mut store,
        &config,
        "2024-01-01",
        JAN1 + DAY + stamp as i64 % 1000,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(round.transitions.len(), 2, "{:#?}", round.transitions);
    assert!(round.undelivered.is_empty(), "{:#?}", round.undelivered);
    // One message for the domain, both alerts in it.
    let subject = "Subject: [dmarcflow] example.com: 2 firing";
    let body = format!(
        "FIRING failing_source ({spoofer})\n  {spoofer} failed DMARC for example.com in 400 of 400 messages"
    );
    let second = format!("{other} failed DMARC for example.com in 150 of 150 messages");
    // Read back over IMAP until the relay has delivered it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mail = imap_fetch_all(&host, &port, &mailbox)
            .await
            .replace("\r\n", "\n");
        let ours = mail.split(" FETCH (BODY[]").any(|m| {
            m.contains(subject)
                && m.contains(&body)
                && m.contains(&second)
                && m.contains("Message-ID: <dmarcflow.")
        });
        if ours {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not delivered: {subject}\n{mail}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// Every message of the mailbox's INBOX, as IMAP sends them (LOGIN over
/// plain IMAP on the loopback: the test server allows it).
async fn imap_fetch_all(host: &str, port: &str, user: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(format!("{host}:{port}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let script = format!(
        "a1 LOGIN {user} {user}\r\na2 SELECT INBOX\r\na3 FETCH 1:* (BODY.PEEK[])\r\na4 LOGOUT\r\n"
    );
    stream
        .write_all(script.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut out),
    )
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The rules of the path to enforcement: an approved sender failing fires
/// (with the fix) and keeps the domain from being ready; a day without its
/// failures resolves it, and the domain becomes ready, told once; a new
/// source is named with its class, but not on the domain's first day
/// (everything is new then).
#[tokio::test]
async fn approved_senders_readiness_and_named_new_sources() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for config_store in stores("enforcement", dir.path()).await {
        enforcement_on(&config_store).await;
    }
}

/// `aggregate` with the named sources enrichment would have given.
fn named_aggregate(
    id: &str,
    day: i64,
    rows: &[(&str, u64, bool)],
    names: &[(&str, &str)],
) -> Ingested<'static> {
    let mut item = aggregate(id, day, PolicyAction::None, rows);
    if let Report::Aggregate(r) = &mut item.report {
        for record in &mut r.records {
            if let Some((_, name)) = names.iter().find(|(ip, _)| *ip == record.source_ip) {
                record.source = Some(Box::new(dmarcflow_schemas::Source {
                    ip: record.source_ip.to_string(),
                    name: Some((*name).to_owned()),
                    identified_by: Some("ptr".into()),
                    ..dmarcflow_schemas::Source::default()
                }));
            }
        }
    }
    item
}

async fn enforcement_on(config_store: &StoreConfig) {
    let mut store = Store::open(config_store)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let names = [("192.0.2.1", "Google"), ("192.0.2.5", "Our Relay")];
    store
        .write(&[
            named_aggregate(
                "e1",
                JAN1,
                &[("192.0.2.1", 1000, true), ("192.0.2.5", 40, false)],
                &names,
            ),
            named_aggregate(
                "e2",
                JAN1 + DAY,
                &[("192.0.2.1", 1000, true), ("203.0.113.50", 200, false)],
                &names,
            ),
        ])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut config = AlertsConfig::default();
    config
        .enforcement
        .approved_senders
        .insert("example.com".into(), vec!["our relay".into()]);
    let fired = |round: &dmarcflow_alerts::Round| {
        let mut out: Vec<(String, String, String)> = round
            .transitions
            .iter()
            .map(|t| {
                (
                    t.status.as_str().to_owned(),
                    t.rule.clone(),
                    t.message.clone(),
                )
            })
            .collect();
        out.sort();
        out
    };
    // Day one: the approved relay fails; nothing is new on a first day.
    let first = evaluate(&mut store, &config, "2024-01-01", JAN1 + DAY)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        fired(&first),
        [(
            "firing".to_owned(),
            "approved_sender_failing".to_owned(),
            "approved sender failing: Our Relay sends 40 messages as example.com that fail DMARC: \
             sign its mail with a DKIM key of example.com (or send it through a service that does), \
             or list its servers in example.com's SPF and use a bounce address of example.com"
                .to_owned()
        )]
    );
    // Day two: the relay is quiet, a spoofer is new (and fails: the pass
    // rate drops), the domain is ready.
    let second = evaluate(&mut store, &config, "2024-01-02", JAN1 + 2 * DAY)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = fired(&second);
    let rules: Vec<(&str, &str)> = second
        .iter()
        .map(|(s, r, _)| (s.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            ("firing", "domain_ready"),
            ("firing", "failing_source"),
            ("firing", "new_source"),
            ("firing", "pass_rate_drop"),
            ("resolved", "approved_sender_failing"),
        ]
    );
    assert_eq!(
        second[0].2,
        "example.com is ready for its next policy step, p=quarantine; pct=25: of 1,200 messages \
         from 2024-01-02 to 2024-01-02, enforcing would have lost 0 (0.00%) of your own and blocked \
         200 (16.67%) unauthorised"
    );
    assert!(
        second[2].2.starts_with(
            "new source 203.0.113.50 (unnamed, unauthorised) sending as example.com: 200 messages"
        ),
        "{}",
        second[2].2
    );
    // Told once: the same day again changes nothing.
    let third = evaluate(&mut store, &config, "2024-01-02", JAN1 + 2 * DAY + 60)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(third.transitions.is_empty(), "{:#?}", third.transitions);
}
