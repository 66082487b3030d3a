//! Reverse DNS, and the whole enrichment of an address, against a real
//! authoritative server: Debian's Knot (`knotd`), started by each test on a
//! loopback port with zones it writes (RFC 5737 and RFC 3849 addresses, the
//! reserved `.example` names), and MMDB files written with a writer
//! library. Report emails are signed here (Ed25519 keys from fixed seeds,
//! published in the zones) and verified through the same server. Needs
//! knotd; skips without it, except under CI.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use dmarcflow_enrich::{DnsConfig, Enricher, NetworkDatabases, Ptr, ReverseDns, SenderMap};
use dmarcflow_schemas::Source;
use dmarcflow_testkit::dkim;
use dmarcflow_testkit::knot::{Knot, Zone};

/// The zones: sender.example (its mail hosts and DKIM keys), a forger's
/// key, and the reverse zones of the test addresses.
fn zones() -> Vec<Zone> {
    vec![
        Zone::new(
            "sender.example",
            format!(
                "ns 300 A 127.0.0.1\n\
                 mail 300 A 192.0.2.10\n\
                 liar 300 A 192.0.2.99\n\
                 mx6 300 AAAA 2001:db8::25\n\
                 both 300 A 192.0.2.14\n\
                 both 300 AAAA 2001:db8::14\n\
                 @ 300 TXT \"v=spf1 ip4:127.0.0.1 -all\"\n\
                 k1._domainkey 300 TXT \"{key}\"\n\
                 k2._domainkey 300 TXT \"{key}\"\n",
                key = dkim::record(SENDER_SEED)
            ),
        ),
        Zone::new(
            "forger.example",
            format!("k1._domainkey 300 TXT \"{}\"\n", dkim::record(FORGER_SEED)),
        ),
        Zone::new(
            "2.0.192.in-addr.arpa",
            "10 300 PTR mail.sender.example.\n\
             11 300 PTR liar.sender.example.\n\
             13 300 PTR gone.sender.example.\n\
             14 300 PTR BOTH.Sender.Example.\n\
             15 300 PTR mail.sender.example.\n",
        ),
        Zone::new(
            "8.b.d.0.1.0.0.2.ip6.arpa",
            "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 300 PTR mx6.sender.example.\n",
        ),
    ]
}

const SENDER_SEED: [u8; 32] = [7; 32];
const FORGER_SEED: [u8; 32] = [9; 32];

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn found(name: &str, confirmed: bool) -> Ptr {
    Ptr {
        name: Some(name.into()),
        confirmed,
        failed: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ptr_names_forward_confirmation_and_a_dead_server() {
    let Some(mut knot) = Knot::start(&zones()) else {
        return;
    };
    let port = knot.port();
    let timeout = Duration::from_millis(1500);
    let dns = ReverseDns::new(&DnsConfig {
        nameservers: vec![SocketAddr::from(([127, 0, 0, 1], port))],
        timeout,
        ..DnsConfig::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(
        dns.lookup(ip("192.0.2.10")).await,
        found("mail.sender.example", true)
    );
    // The name resolves, but elsewhere.
    assert_eq!(
        dns.lookup(ip("192.0.2.11")).await,
        found("liar.sender.example", false)
    );
    // The name does not resolve at all.
    assert_eq!(
        dns.lookup(ip("192.0.2.13")).await,
        found("gone.sender.example", false)
    );
    // Case folded; one of the name's addresses is enough.
    assert_eq!(
        dns.lookup(ip("192.0.2.14")).await,
        found("both.sender.example", true)
    );
    // No PTR: empty, and not a failure.
    assert_eq!(dns.lookup(ip("192.0.2.12")).await, Ptr::default());
    assert_eq!(
        dns.lookup(ip("2001:db8::25")).await,
        found("mx6.sender.example", true)
    );

    // Many at once, through the in-flight bound.
    let many: Vec<_> = (0..300)
        .map(|n| {
            dns.lookup(ip(if n % 2 == 0 {
                "192.0.2.10"
            } else {
                "192.0.2.11"
            }))
        })
        .collect();
    let answers = futures_util::future::join_all(many).await;
    assert_eq!(answers.iter().filter(|p| p.confirmed).count(), 150);
    assert!(answers.iter().all(|p| !p.failed));

    // The server dies: an address not asked before fails within the
    // timeout, flagged; what the cache holds is still answered.
    knot.stop();
    let started = Instant::now();
    let dead = dns.lookup(ip("2001:db8::99")).await;
    assert!(dead.failed && dead.name.is_none(), "{dead:?}");
    assert!(
        started.elapsed() < timeout + Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        dns.lookup(ip("192.0.2.10")).await,
        found("mail.sender.example", true)
    );

    // Back: answers again (an address not asked before; its name's
    // forward record, cached, points elsewhere).
    knot.restart();
    let back = dns.lookup(ip("192.0.2.15")).await;
    assert_eq!(back, found("mail.sender.example", false));
}

/// An IPinfo Lite layout file for 192.0.2.0/24 (the AS of a big mail
/// provider, made up) and 2001:db8::/32.
fn ipinfo_lite() -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Lite {
        asn: &'static str,
        as_name: &'static str,
        as_domain: &'static str,
        country_code: &'static str,
        country: &'static str,
    }
    let mut db = maxminddb_writer::Database::default();
    db.metadata.database_type = "ipinfo lite.mmdb".into();
    db.metadata.binary_format_major_version = 2;
    let data = db
        .insert_value(Lite {
            asn: "AS64510",
            as_name: "Example Mailbox Provider",
            as_domain: "mx.google.com",
            country_code: "US",
            country: "United States",
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
    let network: maxminddb_writer::paths::IpAddrWithMask =
        "192.0.2.0/24".parse().unwrap_or_else(|e| panic!("{e:?}"));
    db.insert_node(network, data);
    db.write_to(Vec::new()).unwrap_or_else(|e| panic!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_gets_its_host_sender_network_and_country() {
    let Some(knot) = Knot::start(&zones()) else {
        return;
    };
    let port = knot.port();
    let mut senders = SenderMap::builtin();
    senders
        .add("[[sender]]\ndomain = \"sender.example\"\nname = \"Example Sender\"\ntype = \"esp\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let enricher = Enricher {
        dns: Some(
            ReverseDns::new(&DnsConfig {
                nameservers: vec![SocketAddr::from(([127, 0, 0, 1], port))],
                ..DnsConfig::default()
            })
            .unwrap_or_else(|e| panic!("{e}")),
        ),
        networks: NetworkDatabases::from_bytes(vec![ipinfo_lite()])
            .unwrap_or_else(|e| panic!("{e}")),
        senders,
        ..Enricher::default()
    };
    let network = |mut s: Source| {
        s.asn = Some(64510);
        s.as_name = Some("Example Mailbox Provider".into());
        s.as_domain = Some("mx.google.com".into());
        s.country = Some("US".into());
        s
    };
    // The PTR's base domain names the sender.
    assert_eq!(
        enricher.source("192.0.2.10").await,
        network(Source {
            ip: "192.0.2.10".into(),
            ptr: Some("mail.sender.example".into()),
            ptr_confirmed: true,
            base_domain: Some("sender.example".into()),
            name: Some("Example Sender".into()),
            kind: Some("esp".into()),
            identified_by: Some("ptr".into()),
            ..Source::default()
        })
    );
    // No PTR: the AS domain's base domain names the sender (by the
    // catalogue's PTR key for google.com).
    assert_eq!(
        enricher.source("192.0.2.12").await,
        network(Source {
            ip: "192.0.2.12".into(),
            name: Some("Google".into()),
            kind: Some("email provider".into()),
            identified_by: Some("as_domain".into()),
            ..Source::default()
        })
    );
    // Outside every database and zone.
    let v6 = enricher.source("2001:db8::25").await;
    assert_eq!(
        (v6.ptr.as_deref(), v6.asn, v6.country),
        (Some("mx6.sender.example"), None, None)
    );
    // Text a report carried that is no address: only the text.
    assert_eq!(
        enricher.source("not-an-ip").await,
        Source {
            ip: "not-an-ip".into(),
            ..Source::default()
        }
    );
    // As JSON: null where unknown, asn a number, no lookup_failed unless set.
    let json = serde_json::to_value(enricher.source("192.0.2.12").await).unwrap_or_default();
    assert_eq!(json["asn"], 64510);
    assert_eq!(json["ptr"], serde_json::Value::Null);
    assert_eq!(json["type"], "email provider");
    assert!(json.get("lookup_failed").is_none());
}

/// A report email from `from`, signed by `signer` (seed, domain,
/// selector).
fn report_email(from: &str, signer: Option<([u8; 32], &str, &str)>) -> Vec<u8> {
    let message = format!(
        "From: DMARC Reports <{from}>\r\n\
         To: rua@example.com\r\n\
         Subject: Report Domain: example.com Submitter: sender.example Report-ID: 42\r\n\
         Date: Tue, 21 Nov 2023 10:00:00 +0000\r\n\
         Message-ID: <42@sender.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain\r\n\
         \r\n\
         The report is attached.\r\n"
    );
    match signer {
        None => message.into_bytes(),
        Some((seed, domain, selector)) => dkim::sign(message.as_bytes(), seed, domain, selector),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_email_is_verified_against_its_reporter() {
    use dmarcflow_enrich::{ReportVerifier, Unauthenticated};
    use dmarcflow_schemas::reporter_auth::Verdict;
    use dmarcflow_schemas::{AggregateReport, Ingested, Report};
    let Some(mut knot) = Knot::start(&zones()) else {
        return;
    };
    let dns = ReverseDns::new(&DnsConfig {
        nameservers: vec![SocketAddr::from(([127, 0, 0, 1], knot.port()))],
        timeout: Duration::from_millis(800),
        ..DnsConfig::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let enricher = Enricher {
        verifier: Some(ReportVerifier::new(
            dns.resolver().clone(),
            Duration::from_secs(2),
        )),
        dns: Some(dns),
        unauthenticated: Unauthenticated::DeadLetter,
        ..Enricher::default()
    };
    // The report claims to come from sender.example.
    let ingested = || {
        let mut r = AggregateReport::empty();
        r.metadata.email = "noreply-dmarc@sender.example".into();
        Ingested {
            report: Report::Aggregate(r),
            origin: "test".into(),
            received_at: 0,
            reporter: None,
        }
    };
    let judge_from = |raw: Vec<u8>, envelope: Option<dmarcflow_enrich::Envelope>| {
        let enricher = &enricher;
        async move {
            let signatures = enricher.signatures(&raw, envelope.as_ref()).await;
            let mut item = ingested();
            let outcome = enricher.judge(&mut item, signatures.as_ref());
            (
                item.reporter
                    .unwrap_or(dmarcflow_schemas::ReporterAuth::HTTPS),
                outcome,
            )
        }
    };
    let judge = |raw: Vec<u8>| judge_from(raw, None);

    // Signed by the reporter's own domain: genuine, stored.
    let (auth, outcome) = judge(report_email(
        "noreply-dmarc@sender.example",
        Some((SENDER_SEED, "sender.example", "k1")),
    ))
    .await;
    assert_eq!(
        (
            auth.verdict,
            auth.dkim.as_deref(),
            auth.dkim_domain.as_deref()
        ),
        (Verdict::Aligned, Some("pass"), Some("sender.example"))
    );
    assert!(outcome.is_ok() && auth.authenticated());

    // A forger's valid signature on a report claiming sender.example (its
    // From is the forger's own, aligned with its key): dead-lettered.
    let (auth, outcome) = judge(report_email(
        "reports@forger.example",
        Some((FORGER_SEED, "forger.example", "k1")),
    ))
    .await;
    assert_eq!(
        (auth.verdict, auth.dkim_domain.as_deref()),
        (Verdict::Unaligned, Some("forger.example"))
    );
    let reason = outcome.err().unwrap_or_default();
    assert!(
        reason.contains("not sender.example's own") && reason.contains("d=forger.example"),
        "{reason}"
    );

    // The forger's key claimed for sender.example: the signature fails.
    let (auth, _) = judge(report_email(
        "noreply-dmarc@sender.example",
        Some((FORGER_SEED, "sender.example", "k1")),
    ))
    .await;
    assert_eq!(
        (auth.verdict, auth.dkim.as_deref()),
        (Verdict::Failed, Some("fail"))
    );

    // Altered after signing.
    let mut altered = report_email(
        "noreply-dmarc@sender.example",
        Some((SENDER_SEED, "sender.example", "k1")),
    );
    let at = altered.len() - 4;
    altered[at] = b'X';
    let (auth, _) = judge(altered).await;
    assert_eq!(auth.verdict, Verdict::Failed);

    // Unsigned.
    let (auth, outcome) = judge(report_email("noreply-dmarc@sender.example", None)).await;
    assert_eq!((auth.verdict, auth.dkim), (Verdict::Unsigned, None));
    assert!(outcome.is_err());

    // Unsigned, but over SMTP from an address sender.example's SPF allows,
    // with a MAIL FROM of its own: aligned, as DMARC would have it.
    let envelope = |peer: [u8; 4]| dmarcflow_enrich::Envelope {
        peer: IpAddr::from(peer),
        helo: "mail.sender.example".into(),
        mail_from: "bounces@sender.example".into(),
    };
    let (auth, outcome) = judge_from(
        report_email("noreply-dmarc@sender.example", None),
        Some(envelope([127, 0, 0, 1])),
    )
    .await;
    assert_eq!(
        (auth.verdict, auth.spf.as_deref()),
        (Verdict::Aligned, Some("pass"))
    );
    assert!(outcome.is_ok());
    let (auth, _) = judge_from(
        report_email("noreply-dmarc@sender.example", None),
        Some(envelope([192, 0, 2, 66])),
    )
    .await;
    assert_eq!(
        (auth.verdict, auth.spf.as_deref()),
        (Verdict::Unsigned, Some("fail"))
    );

    // The server gone (a key not in the cache): a temporary failure
    // within the timeout, not a hang.
    knot.stop();
    let started = Instant::now();
    let (auth, _) = judge(report_email(
        "noreply-dmarc@sender.example",
        Some((SENDER_SEED, "sender.example", "k2")),
    ))
    .await;
    assert_eq!(
        (auth.verdict, auth.dkim.as_deref()),
        (Verdict::Failed, Some("temperror"))
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}
