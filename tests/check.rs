//! `dmarcflow check` against a real authoritative server (Knot) serving
//! test zones: a domain with every record right, SPF trees at 9, 10 and 11
//! lookups, and a domain with every kind of broken record (two DMARC
//! records, void lookups, an include loop, a CNAME loop, a 1024-bit and a
//! revoked DKIM key, a TLS-RPT record without a valid rua, BIMI without
//! enforcement), and an oversized TXT answer. Each gives its findings, in
//! bounded time, with exit status 2 when any is critical.
//!
//! Needs knotd; skips without it, except under CI.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use dmarcflow_testkit::knot::{Knot, Zone};
use serde_json::Value;

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

fn zones() -> Vec<Zone> {
    let good = format!(
        "@ MX 10 mx1.good.test.\n\
         @ MX 20 mx2.good.test.\n\
         mx1 A 127.0.0.1\n\
         mx2 A 127.0.0.1\n\
         @ {}\n\
         _spf {}\n\
         _dmarc {}\n\
         s2048._domainkey {}\n\
         _smtp._tls {}\n",
        txt("v=spf1 ip4:192.0.2.1 include:_spf.good.test -all"),
        txt("v=spf1 a:mx1.good.test mx:good.test -all"),
        txt("v=DMARC1; p=reject; rua=mailto:dmarc@good.test,mailto:agg@reports.test"),
        txt(&format!("v=DKIM1; k=rsa; p={}", rsa_key(2048))),
        txt("v=TLSRPTv1; rua=mailto:tls@good.test"),
    );
    let reports = format!("good.test._report._dmarc {}\n", txt("v=DMARC1"));
    let broken = format!(
        "@ MX 10 mx.broken.test.\n\
         @ {}\n\
         loop {}\n\
         a1 CNAME a2\n\
         a2 CNAME a1\n\
         _dmarc {}\n\
         _dmarc {}\n\
         k1024._domainkey {}\n\
         old._domainkey {}\n\
         _smtp._tls {}\n\
         default._bimi {}\n",
        txt("v=spf1 a:gone1.broken.test a:gone2.broken.test mx:gone3.broken.test include:loop.broken.test include:a1.broken.test ptr ?all"),
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
    vec![
        Zone::new("good.test", good),
        Zone::new("reports.test", reports),
        Zone::new("broken.test", broken),
        Zone::new("big.test", big),
        Zone::new("empty.test", ""),
        spf_chain("spf9.test", 9),
        spf_chain("spf10.test", 10),
        spf_chain("spf11.test", 11),
    ]
}

fn check(knot: &Knot, domains: &[&str], selectors: &[&str]) -> (Option<i32>, Vec<Value>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
    command
        .arg("check")
        .arg("--json")
        .args(domains)
        .env_remove("DMARCFLOW_CONFIG")
        .env("DMARCFLOW_ENRICH_NAMESERVERS", knot.address().to_string())
        .args(["--timeout-ms", "2000"]);
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
    let Some(knot) = Knot::start(&zones()) else {
        return;
    };
    let (status, postures) = check(&knot, &["good.test"], &["s2048"]);
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
    assert_eq!(
        codes(p),
        [
            ("mta_sts.missing".to_owned(), "info".to_owned()),
            ("bimi.missing".to_owned(), "info".to_owned())
        ]
    );
}

#[test]
fn spf_trees_at_nine_ten_and_eleven_lookups() {
    let Some(knot) = Knot::start(&zones()) else {
        return;
    };
    let (status, postures) = check(&knot, &["spf9.test", "spf10.test", "spf11.test"], &[]);
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
    let Some(knot) = Knot::start(&zones()) else {
        return;
    };
    let started = Instant::now();
    let (status, postures) = check(
        &knot,
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
