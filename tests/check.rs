//! `dmarcflow check` against real servers: an authoritative DNS server
//! (Knot) serving the test zones, a web server (nginx) serving MTA-STS
//! policies and BIMI logos with certificates from a test CA the check is
//! told to trust, and SMTP servers (Exim) as MX hosts on loopback
//! addresses with a valid, an expired, a wrong-name and an expiring
//! certificate, and one without STARTTLS. A domain with every record
//! right; SPF trees at 9, 10 and 11 lookups; every kind of broken record
//! (two DMARC records, void lookups, an include loop, a CNAME loop, a
//! 1024-bit and a revoked DKIM key, a TLS-RPT record without a valid rua,
//! BIMI without enforcement, an oversized TXT answer, a policy of 10 MB, a
//! redirect, a logo that is not SVG, servers that never answer). Each gives
//! its findings, in bounded time, with exit status 2 when any is critical.
//!
//! Needs knotd, nginx and Exim; skips without them, except under CI.

mod common;

use std::net::{Ipv4Addr, TcpListener};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use dmarcflow_testkit::knot::{Knot, Zone};
use dmarcflow_testkit::mx_hosts::MxHosts;
use dmarcflow_testkit::nginx::Nginx;
use dmarcflow_testkit::pki::TestCa;
use serde_json::Value;

/// A logo that follows the SVG Tiny PS basics.
const LOGO: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps" viewBox="0 0 64 64">
<title>Logo Test</title><circle cx="32" cy="32" r="30" fill="#2a6"/></svg>
"##;

fn policy(mode: &str, mx: &str) -> Vec<u8> {
    format!("version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: 604800\r\n").into_bytes()
}

/// Every server of the tests, up together; dropped together.
struct Lab {
    knot: Knot,
    nginx: Nginx,
    mx: MxHosts,
    ca_file: tempfile::NamedTempFile,
    /// Accept connections (the kernel's backlog) and never answer: a
    /// policy host and an MX host that hang.
    _silent: [TcpListener; 2],
}

const HANG: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 8);

impl Lab {
    fn start() -> Option<Self> {
        let ca = TestCa::new("dmarcflow posture test CA");
        let web = ca.issue(
            &[
                "mta-sts.good.test",
                "mta-sts.tls.test",
                "mta-sts.enforce.test",
                "mta-sts.huge.test",
                "mta-sts.redirect.test",
                "bimi.logo.test",
            ],
            -1,
            90,
        );
        let files = vec![
            (
                "mta-sts.good.test/.well-known/mta-sts.txt",
                policy("enforce", "*.good.test"),
            ),
            (
                "mta-sts.tls.test/.well-known/mta-sts.txt",
                policy("testing", "*.tls.test"),
            ),
            (
                "mta-sts.enforce.test/.well-known/mta-sts.txt",
                policy("enforce", "mx.enforce.test"),
            ),
            (
                "mta-sts.huge.test/.well-known/mta-sts.txt",
                vec![b'#'; 10 << 20],
            ),
            ("bimi.logo.test/logo.svg", LOGO.as_bytes().to_vec()),
            (
                "bimi.logo.test/logo.png",
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x40".to_vec(),
            ),
        ];
        let redirect = "    if ($host = mta-sts.redirect.test) { return 301 https://mta-sts.good.test/.well-known/mta-sts.txt; }";
        let nginx = Nginx::start(&web.cert_pem, &web.key_pem, &files, redirect)?;
        let valid = ca.issue(&["mx1.good.test", "mx2.good.test", "mx1.tls.test"], -1, 90);
        let expired = ca.issue(&["mx2.tls.test", "mx.enforce.test"], -60, -2);
        let wrong = ca.issue(&["other.test"], -1, 90);
        let expiring = ca.issue(&["mx5.tls.test"], -80, 5);
        let mx = MxHosts::start(&[
            (Ipv4Addr::new(127, 0, 0, 2), Some(&valid)),
            (Ipv4Addr::new(127, 0, 0, 3), Some(&expired)),
            (Ipv4Addr::new(127, 0, 0, 4), Some(&wrong)),
            (Ipv4Addr::new(127, 0, 0, 5), None),
            (Ipv4Addr::new(127, 0, 0, 6), Some(&expiring)),
        ])?;
        let knot = Knot::start(&zones())?;
        let ca_file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(ca_file.path(), ca.cert_pem()).unwrap_or_else(|e| panic!("{e}"));
        let silent =
            |port| TcpListener::bind((HANG, port)).unwrap_or_else(|e| panic!("{HANG}:{port}: {e}"));
        let _silent = [silent(nginx.port()), silent(mx.port())];
        Some(Self {
            knot,
            nginx,
            mx,
            ca_file,
            _silent,
        })
    }
}

/// A TXT record's text in zone-file form: quoted strings of at most 200
/// characters (one DNS character-string holds 255).
fn txt(text: &str) -> String {
    let parts: Vec<String> = text
        .as_bytes()
        .chunks(200)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    format!("TXT {}", parts.join(" "))
}

/// The base64 SubjectPublicKeyInfo of an RSA key with a `bits`-bit
/// modulus (its value does not matter to a size check).
fn rsa_key(bits: usize) -> String {
    fn der(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match body.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(body);
        out
    }
    let mut n = vec![0u8, 0xc1];
    n.extend(std::iter::repeat_n(0x5au8, bits / 8 - 1));
    let rsa = der(0x30, &[der(0x02, &n), der(0x02, &[1, 0, 1])].concat());
    let oid = der(0x06, &[42, 134, 72, 134, 247, 13, 1, 1, 1]);
    let alg = der(0x30, &[oid, der(0x05, &[])].concat());
    let bit = der(0x03, &[&[0u8][..], &rsa].concat());
    base64::engine::general_purpose::STANDARD.encode(der(0x30, &[alg, bit].concat()))
}

/// A zone whose apex SPF costs `n` lookups: a chain of includes, each
/// record also spending one `a` lookup.
fn spf_chain(origin: &str, n: usize) -> Zone {
    let mut records = String::from("host A 192.0.2.7\n");
    let mut left = n;
    let mut name = "@".to_owned();
    let mut i = 0;
    while left > 0 {
        let next = format!("s{i}");
        let used = left.min(2);
        let include = if used == 2 {
            format!(" include:{next}.{origin}")
        } else {
            String::new()
        };
        records.push_str(&format!(
            "{name} {}\n",
            txt(&format!("v=spf1 a:host.{origin}{include} -all"))
        ));
        left -= used;
        name = next;
        i += 1;
    }
    records.push_str(&format!("{name} {}\n", txt("v=spf1 ip4:192.0.2.1 -all")));
    records.push_str(&format!(
        "_dmarc {}\n",
        txt(&format!("v=DMARC1; p=reject; rua=mailto:d@{origin}"))
    ));
    Zone::new(origin, records)
}

/// good.test: every record right, its DMARC policy `policy`.
fn good(policy: &str) -> Zone {
    let good = format!(
        "@ MX 10 mx1.good.test.\n\
         @ MX 20 mx2.good.test.\n\
         mx1 A 127.0.0.2\n\
         mx2 A 127.0.0.2\n\
         mta-sts A 127.0.0.1\n\
         _mta-sts {}\n\
         @ {}\n\
         _spf {}\n\
         _dmarc {}\n\
         s2048._domainkey {}\n\
         _smtp._tls {}\n",
        txt("v=STSv1; id=20261205"),
        txt("v=spf1 ip4:192.0.2.1 include:_spf.good.test -all"),
        txt("v=spf1 a:mx1.good.test mx:good.test -all"),
        txt(&format!(
            "v=DMARC1; p={policy}; rua=mailto:dmarc@good.test,mailto:agg@reports.test"
        )),
        txt(&format!("v=DKIM1; k=rsa; p={}", rsa_key(2048))),
        txt("v=TLSRPTv1; rua=mailto:tls@good.test"),
    );
    Zone::new("good.test", good)
}

fn zones() -> Vec<Zone> {
    let reports = format!("good.test._report._dmarc {}\n", txt("v=DMARC1"));
    let broken = format!(
        "@ MX 10 mx.broken.test.\n\
         @ {}\n\
         loop {}\n\
         a1 CNAME a2\n\
         a2 CNAME a1\n\
         c1 CNAME c2\n\
         c2 CNAME c3\n\
         c3 TXT \"v=spf1 ip4:192.0.2.9 -all\"\n\
         _dmarc {}\n\
         _dmarc {}\n\
         k1024._domainkey {}\n\
         old._domainkey {}\n\
         _smtp._tls {}\n\
         default._bimi {}\n",
        txt("v=spf1 a:gone1.broken.test a:gone2.broken.test mx:gone3.broken.test include:loop.broken.test include:a1.broken.test include:c1.broken.test ptr ?all"),
        txt("v=spf1 include:broken.test -all"),
        txt("v=DMARC1; p=none"),
        txt("v=DMARC1; p=reject"),
        txt(&format!("v=DKIM1; t=y; p={}", rsa_key(1024))),
        txt("v=DKIM1; k=rsa; p="),
        txt("v=TLSRPTv1; rua=tls@broken.test"),
        txt("v=BIMI1; l=http://broken.test/logo.svg"),
    );
    let mut big = String::new();
    for i in 0..40 {
        big.push_str(&format!(
            "@ {}\n",
            txt(&format!("filler-{i:02}-{}", "x".repeat(180)))
        ));
    }
    let sts = |mx: &str| {
        format!(
            "{mx}mta-sts A 127.0.0.1\n_mta-sts {}\n_smtp._tls {}\n",
            txt("v=STSv1; id=1"),
            txt("v=TLSRPTv1; rua=mailto:tls@reports.test")
        )
    };
    let tls = sts(
        "@ MX 10 mx1\n@ MX 20 mx2\n@ MX 30 mx3\n@ MX 40 mx4\n@ MX 50 mx5\n@ MX 60 mx6\n\
         mx1 A 127.0.0.2\nmx2 A 127.0.0.3\nmx3 A 127.0.0.4\nmx4 A 127.0.0.5\n\
         mx5 A 127.0.0.6\nmx6 A 127.0.0.7\n",
    );
    let logo = |file: &str| {
        format!(
            "_dmarc {}\ndefault._bimi {}\nbimi A 127.0.0.1\n",
            txt("v=DMARC1; p=reject"),
            txt(&format!(
                "v=BIMI1; l=https://bimi.logo.test/{file}; a=https://bimi.logo.test/vmc.pem"
            ))
        )
    };
    vec![
        good("reject"),
        Zone::new("tls.test", tls),
        Zone::new("enforce.test", sts("@ MX 10 mx\nmx A 127.0.0.3\n")),
        Zone::new("huge.test", sts("")),
        Zone::new("redirect.test", sts("")),
        Zone::new(
            "slow.test",
            "@ MX 10 mx\nmx A 127.0.0.8\nmta-sts A 127.0.0.8\n_mta-sts TXT \"v=STSv1; id=1\"\n",
        ),
        Zone::new("logo.test", logo("logo.svg")),
        Zone::new("badlogo.test", logo("logo.png")),
        Zone::new("reports.test", reports),
        Zone::new("broken.test", broken),
        Zone::new("big.test", big),
        Zone::new("empty.test", ""),
        spf_chain("spf9.test", 9),
        spf_chain("spf10.test", 10),
        spf_chain("spf11.test", 11),
    ]
}

fn check(lab: &Lab, domains: &[&str], selectors: &[&str]) -> (Option<i32>, Vec<Value>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
    command
        .arg("check")
        .arg("--json")
        .arg("--no-store")
        .args(domains)
        .env_remove("DMARCFLOW_CONFIG")
        .env(
            "DMARCFLOW_ENRICH_NAMESERVERS",
            lab.knot.address().to_string(),
        )
        .args(["--timeout-ms", "2000"])
        .args(["--https-port", &lab.nginx.port().to_string()])
        .args(["--smtp-port", &lab.mx.port().to_string()])
        .arg("--ca-file")
        .arg(lab.ca_file.path());
    for s in selectors {
        command.args(["--selector", s]);
    }
    let out = command.output().unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let postures = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out.status.code(), postures)
}

fn codes(posture: &Value) -> Vec<(String, String)> {
    posture["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| {
                    (
                        f["code"].as_str().unwrap_or_default().to_owned(),
                        f["severity"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_domain_with_every_record_right() {
    let Some(lab) = Lab::start() else {
        return;
    };
    let (status, postures) = check(&lab, &["good.test"], &["s2048"]);
    let p = &postures[0];
    assert_eq!(status, Some(0), "{p:#}");
    assert_eq!(p["domain"], "good.test");
    assert_eq!(p["score"], 100);
    assert_eq!(p["grade"], "A");
    assert_eq!(p["dmarc"]["policy"], "reject");
    assert_eq!(p["dmarc"]["record_name"], "_dmarc.good.test");
    assert_eq!(p["spf"]["lookups"], 3);
    assert_eq!(p["spf"]["void_lookups"], 0);
    assert_eq!(p["dkim"][0]["bits"], 2048);
    assert_eq!(p["tlsrpt"]["rua"][0], "mailto:tls@good.test");
    assert_eq!(p["mx"][0]["host"], "mx1.good.test");
    assert_eq!(p["mx"][1]["preference"], 20);
    assert_eq!(p["mta_sts"]["mode"], "enforce");
    assert_eq!(p["mta_sts"]["id"], "20261205");
    for mx in [&p["mx"][0], &p["mx"][1]] {
        assert_eq!(mx["tls"]["address"], "127.0.0.2");
        assert_eq!(mx["tls"]["starttls"], true);
        assert_eq!(mx["tls"]["certificate"]["valid"], true, "{mx:#}");
    }
    // Loopback MX hosts: the resolver names 127.0.0.2 `localhost`, which
    // leads back to 127.0.0.1 (a note, no points lost).
    assert_eq!(p["mx"][0]["ptr"][0], "localhost", "{p:#}");
    let info = |c: &str| (c.to_owned(), "info".to_owned());
    assert_eq!(
        codes(p),
        [
            info("mx.ptr_mismatch"),
            info("mx.ptr_mismatch"),
            info("bimi.missing")
        ]
    );
}

#[test]
fn spf_trees_at_nine_ten_and_eleven_lookups() {
    let Some(lab) = Lab::start() else {
        return;
    };
    let (status, postures) = check(&lab, &["spf9.test", "spf10.test", "spf11.test"], &[]);
    let lookups: Vec<&Value> = postures.iter().map(|p| &p["spf"]["lookups"]).collect();
    assert_eq!(lookups, [9, 10, 11]);
    let limit = |p: &Value| codes(p).iter().any(|(c, _)| c == "spf.lookup_limit");
    assert_eq!(
        postures.iter().map(limit).collect::<Vec<_>>(),
        [false, false, true]
    );
    assert_eq!(status, Some(2), "spf11.test is critical");
}

#[test]
fn broken_records_each_give_their_finding_in_bounded_time() {
    let Some(lab) = Lab::start() else {
        return;
    };
    let started = Instant::now();
    let (status, postures) = check(
        &lab,
        &["broken.test", "big.test", "empty.test"],
        &["k1024", "old", "gone"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, Some(2));
    let broken = &postures[0];
    let found: Vec<String> = codes(broken)
        .into_iter()
        .map(|(c, s)| format!("{s} {c}"))
        .collect();
    for expected in [
        "critical dmarc.multiple",
        "critical spf.loop",
        "critical spf.void_lookup_limit",
        "critical spf.include_missing",
        "warning spf.ptr",
        "warning spf.all_neutral",
        "warning dkim.testing",
        "warning dkim.weak_key",
        "warning dkim.revoked",
        "warning dkim.key_missing",
        "critical tlsrpt.syntax",
        "warning bimi.syntax",
        "warning bimi.no_certificate",
        "warning bimi.dmarc_not_enforced",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} not in {found:#?}"
        );
    }
    // Three names that do not exist, and the CNAME loop (no records).
    assert_eq!(broken["spf"]["void_lookups"], 4);
    // A chain of CNAMEs is followed to the record at its end: the include
    // through it is a plain lookup (no note), not a void or missing one.
    let chained = broken["spf"]["tree"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["term"] == "include:c1.broken.test")
        .unwrap_or_else(|| panic!("{:#}", broken["spf"]));
    assert_eq!(chained["note"], Value::Null, "{chained:#}");
    assert!(
        !broken["findings"].to_string().contains("c1.broken.test"),
        "{:#}",
        broken["findings"]
    );
    assert_eq!(broken["dkim"][0]["bits"], 1024);
    assert_eq!(broken["dkim"][1]["revoked"], true);
    assert!(
        broken["score"].as_u64().is_some_and(|s| s < 50),
        "{}",
        broken["score"]
    );
    assert_eq!(broken["grade"], "F");
    let big = codes(&postures[1]);
    assert!(
        big.iter()
            .any(|(c, s)| c == "spf.lookup_failed" && s == "critical"),
        "{big:?}"
    );
    let empty = codes(&postures[2]);
    assert!(empty.iter().any(|(c, _)| c == "dmarc.missing"), "{empty:?}");
    assert!(empty.iter().any(|(c, _)| c == "spf.missing"), "{empty:?}");
}

fn found(posture: &Value) -> Vec<String> {
    codes(posture)
        .into_iter()
        .map(|(c, s)| format!("{s} {c}"))
        .collect()
}

fn has(posture: &Value, expected: &str) {
    let found = found(posture);
    assert!(
        found.iter().any(|f| f == expected),
        "{expected} not in {found:#?}"
    );
}

#[test]
fn mx_hosts_starttls_and_certificates() {
    let Some(lab) = Lab::start() else {
        return;
    };
    let (status, postures) = check(&lab, &["tls.test", "enforce.test"], &[]);
    let tls = &postures[0];
    let mx = |i: usize| &tls["mx"][i]["tls"];
    assert_eq!(mx(0)["certificate"]["valid"], true, "{tls:#}");
    assert_eq!(mx(1)["certificate"]["problem"], "expired");
    assert_eq!(
        mx(2)["certificate"]["problem"],
        "not valid for mx3.tls.test"
    );
    assert_eq!(mx(3)["starttls"], false);
    assert_eq!(mx(4)["certificate"]["valid"], true);
    assert_eq!(mx(5)["starttls"], Value::Null);
    // Under a testing policy, what senders would fail on is a warning.
    for expected in [
        "warning mx.certificate_invalid",
        "warning mx.starttls_missing",
        "warning mx.certificate_expiring",
        "info mx.unreachable",
    ] {
        has(tls, expected);
    }
    let invalid = found(tls)
        .iter()
        .filter(|f| f.ends_with("mx.certificate_invalid"))
        .count();
    assert_eq!(invalid, 2);
    // Under enforce, senders refuse the expired host: critical.
    has(&postures[1], "critical mx.certificate_invalid");
    assert_eq!(status, Some(2));
}

#[test]
fn hostile_web_and_smtp_servers_end_in_findings_in_bounded_time() {
    let Some(lab) = Lab::start() else {
        return;
    };
    let started = Instant::now();
    let (_, postures) = check(
        &lab,
        &[
            "huge.test",
            "redirect.test",
            "slow.test",
            "logo.test",
            "badlogo.test",
        ],
        &[],
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "{took:?}");
    let message = |p: &Value, code: &str| {
        p["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["code"] == code))
            .map(|f| f["message"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("no {code} in {p:#}"))
    };
    let huge = message(&postures[0], "mta_sts.policy_unreachable");
    assert!(huge.contains("over 65536 bytes"), "{huge}");
    let redirect = message(&postures[1], "mta_sts.policy_invalid");
    assert!(
        redirect.contains("HTTP status 301") && redirect.contains("mta-sts.good.test"),
        "{redirect}"
    );
    let slow = &postures[2];
    assert!(
        message(slow, "mta_sts.policy_unreachable").contains("within"),
        "{slow:#}"
    );
    assert!(
        message(slow, "mx.unreachable").contains("within"),
        "{slow:#}"
    );
    let logo = &postures[3];
    assert_eq!(logo["bimi"]["logo_bytes"], LOGO.len());
    assert!(
        found(logo).iter().all(|f| !f.contains("bimi.logo")),
        "{logo:#}"
    );
    let bad = message(&postures[4], "bimi.logo_invalid");
    assert!(
        bad.contains("served as \"image/png\"") && bad.contains("not text"),
        "{bad}"
    );
}

/// `dmarcflow query SQL` in `dir` (its config and store): the rows.
fn query(dir: &std::path::Path, sql: &str) -> Vec<Vec<String>> {
    let out = common::isolated(dir)
        .args(["--config", "posture.toml", "query", sql])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// The webhook bodies a command posts, until it exits.
fn webhook_bodies(hook: &TcpListener, mut command: std::process::Child) -> Vec<Value> {
    hook.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
    let mut bodies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match hook.accept() {
            Ok((mut stream, _)) => {
                stream
                    .set_nonblocking(false)
                    .unwrap_or_else(|e| panic!("{e}"));
                bodies.push(common::webhook_post(&mut stream));
            }
            Err(_) => {
                if command.try_wait().ok().flatten().is_some() {
                    return bodies;
                }
                assert!(Instant::now() < deadline, "the command does not end");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// `[posture]` inside `dmarcflow run`: every configured domain re-checked
/// on the schedule and stored; the owner edits a record; the next round
/// stores the new text; `dmarcflow alerts` then tells, on the webhook, the
/// record's old and new text, the score's fall and the MX certificates near
/// or past expiry.
#[test]
fn the_run_service_watches_domains_and_alerts_on_changes() {
    let Some(mut lab) = Lab::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let hook = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}/alerts",
        hook.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    std::fs::write(
        dir.path().join("posture.toml"),
        format!(
            "[posture]\ninterval_hours = 0.0005\ndomains = [\"good.test\", \"tls.test\"]\n\
             timeout_ms = 2000\nca_file = \"{}\"\n\n\
             [alerts]\n\n[[alerts.webhook]]\nurl = \"{url}\"\n",
            lab.ca_file.path().display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut service = common::isolated(dir.path())
        .args(["--config", "posture.toml", "run"])
        .env("DMARCFLOW_HTTP_LISTEN", "127.0.0.1:0")
        .env(
            "DMARCFLOW_ENRICH_NAMESERVERS",
            lab.knot.address().to_string(),
        )
        .env(
            "DMARCFLOW_POSTURE_TEST_HTTPS_PORT",
            lab.nginx.port().to_string(),
        )
        .env(
            "DMARCFLOW_POSTURE_TEST_SMTP_PORT",
            lab.mx.port().to_string(),
        )
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(
            std::fs::File::create(dir.path().join("service.log")).unwrap_or_else(|e| panic!("{e}")),
        )
        .spawn()
        .map(common::Killed)
        .unwrap_or_else(|e| panic!("{e}"));
    let log = || std::fs::read_to_string(dir.path().join("service.log")).unwrap_or_default();
    let dmarc_of_good = || {
        query(
            dir.path(),
            "SELECT dmarc_record, score FROM domain_checks WHERE domain = 'good.test' ORDER BY checked_at",
        )
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while dmarc_of_good().is_empty() {
        assert!(Instant::now() < deadline, "no check stored: {}", log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let first = dmarc_of_good();
    assert!(first[0][0].contains("p=reject"), "{first:?}");
    assert_eq!(first[0][1], "100");
    // The owner steps back to monitoring only.
    lab.knot.replace_zone(&good("none"));
    while !dmarc_of_good().iter().any(|r| r[0].contains("p=none")) {
        assert!(
            Instant::now() < deadline,
            "the change never stored: {:?}\n{}",
            dmarc_of_good(),
            log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill")
        .arg(service.0.id().to_string())
        .status();
    let status = service.0.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
    let tls = query(
        dir.path(),
        "SELECT mx_tls FROM domain_checks WHERE domain = 'tls.test' ORDER BY checked_at DESC LIMIT 1",
    );
    // One line per MX host (the query prints the cell's lines as rows).
    assert!(
        tls.iter().any(|r| r[..2] == ["mx4.tls.test", "no"]),
        "{tls:?}"
    );
    assert!(
        tls.iter()
            .any(|r| r[..3] == ["mx2.tls.test", "yes", "expired"]),
        "{tls:?}"
    );

    let alerts = common::isolated(dir.path())
        .args(["--config", "posture.toml", "alerts"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let bodies = webhook_bodies(&hook, alerts);
    let told = |rule: &str, domain: &str, text: &str| {
        bodies.iter().any(|b| {
            b["rule"] == rule
                && b["domain"] == domain
                && b["message"].as_str().is_some_and(|m| m.contains(text))
        })
    };
    assert!(
        told(
            "record_changed",
            "good.test",
            "_dmarc.good.test (DMARC) changed: \"v=DMARC1; p=reject; rua=mailto:dmarc@good.test,mailto:agg@reports.test\" -> \"v=DMARC1; p=none; rua=mailto:dmarc@good.test,mailto:agg@reports.test\""
        ),
        "{bodies:#?}"
    );
    assert!(
        told("score_dropped", "good.test", "dropped from 100 (A)"),
        "{bodies:#?}"
    );
    assert!(
        told(
            "mx_certificate_expiring",
            "tls.test",
            "mx5.tls.test's certificate"
        ),
        "{bodies:#?}"
    );
    assert!(
        told(
            "mx_certificate_expiring",
            "tls.test",
            "mx2.tls.test's certificate (an MX host of tls.test) expired on"
        ),
        "{bodies:#?}"
    );
}
