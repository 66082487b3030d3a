//! Hosted MTA-STS against a real MTA-STS client: Debian's
//! postfix-mta-sts-resolver (`mta-sts-query`) resolves through a real
//! recursive resolver (Unbound) that reaches Knot for the test zones, and
//! fetches the policy over HTTPS from `dmarcflow run`'s listener, the test
//! CA trusted. It reports the policy dmarcflow serves; after `mta-sts set
//! --mode enforce` and the new id published, the new one. Enforce is
//! refused where the patterns miss an MX host; hosts and paths not hosted
//! are 404s naming nothing.
//!
//! Needs knotd, unbound, mta-sts-query, curl and unshare (the client reads
//! /etc/resolv.conf: it runs in a mount namespace of its own where that
//! file names Unbound); skips without them, except under CI.

mod common;

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dmarcflow_testkit::knot::{Knot, Zone};
use dmarcflow_testkit::pki::TestCa;
use dmarcflow_testkit::services::missing;
use dmarcflow_testkit::unbound::Unbound;

/// The listener's address (port 443: the client asks for no other).
const LISTENER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 20);
/// Unbound's (port 53).
const RESOLVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 53);

fn zone(origin: &str, id: Option<&str>) -> Zone {
    let mut records = format!(
        "@ 1 MX 10 mx1.{origin}.\n@ 1 MX 20 mx2.{origin}.\nmx1 1 A 127.0.0.2\nmx2 1 A 127.0.0.3\nmta-sts 1 A {LISTENER}\n"
    );
    if let Some(id) = id {
        records.push_str(&format!("_mta-sts 1 TXT \"v=STSv1; id={id}\"\n"));
    }
    Zone::new(origin, records)
}

fn dmarcflow(dir: &Path, args: &[&str]) -> Output {
    common::isolated(dir)
        .args(["--config", "hosted.toml"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The id `mta-sts records DOMAIN` prints for the `_mta-sts` record.
fn published_id(dir: &Path, domain: &str) -> String {
    let out = dmarcflow(dir, &["mta-sts", "records", domain]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| {
            l.split_once("v=STSv1; id=")
                .map(|(_, id)| id.trim_end_matches('"').to_owned())
        })
        .unwrap_or_else(|| {
            panic!(
                "no _mta-sts record in {text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// `mta-sts-query DOMAIN [KNOWN_ID]` with /etc/resolv.conf naming Unbound
/// (in a mount namespace of its own) and the test CA trusted.
fn query(unbound: &Unbound, ca: &Path, domain: &str, known: Option<&str>) -> String {
    let resolv = unbound.resolv_conf();
    let script = format!(
        "mount --bind {} /etc/resolv.conf && exec mta-sts-query {domain} {}",
        resolv.display(),
        known.unwrap_or("")
    );
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .env("SSL_CERT_FILE", ca)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `curl` of `path` at `host` on the listener (the CA trusted): the status
/// and the body.
fn get(ca: &Path, host: &str, path: &str) -> (String, String) {
    get_as(ca, host, host, path)
}

/// The same through the TLS name `sni` (its certificate verified), asking
/// for `host` in the Host header.
fn get_as(ca: &Path, sni: &str, host: &str, path: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "--cacert"])
        .arg(ca)
        .args(["--resolve", &format!("{sni}:443:{LISTENER}")])
        .args(["-H", &format!("Host: {host}")])
        .arg(format!("https://{sni}{path}"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or((&text, ""));
    (code.to_owned(), body.to_owned())
}

#[test]
fn a_real_mta_sts_client_gets_the_hosted_policy_and_its_changes() {
    if !["mta-sts-query", "curl", "unshare"]
        .iter()
        .all(|t| common::have(t))
    {
        return;
    }
    let Some(mut knot) = Knot::start(&[zone("hosted.test", None), zone("other.test", None)]) else {
        return;
    };
    let Some(mut unbound) = Unbound::start(
        RESOLVER,
        &[
            ("hosted.test", knot.address()),
            ("other.test", knot.address()),
        ],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let ca = TestCa::new("dmarcflow hosted MTA-STS test CA");
    let write = |name: &str, text: &str| {
        std::fs::write(d.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };
    write("ca.pem", &ca.cert_pem());
    let own = ca.issue(&["reports.dmarcflow.test"], -1, 90);
    write("own.pem", &own.cert_pem);
    write("own.key", &own.key_pem);
    let hosted = ca.issue(&["mta-sts.hosted.test", "mta-sts.other.test"], -1, 90);
    write("hosted.pem", &hosted.cert_pem);
    write("hosted.key", &hosted.key_pem);
    write(
        "hosted.toml",
        &format!(
            "[http]\nlisten = \"{LISTENER}:443\"\ntls_cert = \"own.pem\"\ntls_key = \"own.key\"\n\n\
             [enrich]\nnameservers = [\"{}\"]\n\n\
             [mta_sts]\ncname_target = \"reports.dmarcflow.test\"\n\
             tlsrpt_rua = \"https://reports.dmarcflow.test/tlsrpt\"\nrefresh_secs = 1\n\n\
             [[mta_sts.certificate]]\nnames = [\"mta-sts.hosted.test\", \"mta-sts.other.test\"]\n\
             cert = \"hosted.pem\"\nkey = \"hosted.key\"\n\n\
             [mta_sts.domains.\"hosted.test\"]\nmode = \"testing\"\n\n\
             [mta_sts.domains.\"other.test\"]\nmode = \"testing\"\nmx = [\"mx1.other.test\"]\n",
            knot.address()
        ),
    );
    // The records to publish, with the id of the policy served (its mx
    // patterns: the MX hosts, looked up).
    let records =
        String::from_utf8_lossy(&dmarcflow(d, &["mta-sts", "records", "hosted.test"]).stdout)
            .into_owned();
    assert!(
        records.contains("mta-sts.hosted.test. CNAME reports.dmarcflow.test."),
        "{records}"
    );
    assert!(
        records.contains(
            "_smtp._tls.hosted.test. TXT \"v=TLSRPTv1; rua=https://reports.dmarcflow.test/tlsrpt\""
        ),
        "{records}"
    );
    let first = published_id(d, "hosted.test");
    knot.replace_zone(&zone("hosted.test", Some(&first)));

    let _service = common::Killed(
        common::isolated(d)
            .args(["--config", "hosted.toml", "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let policy_path = "/.well-known/mta-sts.txt";
    let deadline = Instant::now() + Duration::from_secs(30);
    let ca_file = d.join("ca.pem");
    while get(&ca_file, "mta-sts.hosted.test", policy_path).0 != "200" {
        assert!(Instant::now() < deadline, "the policy is never served");
        std::thread::sleep(Duration::from_millis(200));
    }
    let seen = query(&unbound, &ca_file, "hosted.test", None);
    let dig = Command::new("dig")
        .args([
            "+short",
            &format!("@{RESOLVER}"),
            "_mta-sts.hosted.test",
            "TXT",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(seen.contains(&format!("'{first}'")), "{seen}\ndig: {dig}");
    assert!(
        seen.contains("'mode': 'testing'")
            && seen.contains("mx1.hosted.test")
            && seen.contains("mx2.hosted.test"),
        "{seen}"
    );

    // Enforce: the patterns (the MX hosts) cover every MX host.
    let set = dmarcflow(d, &["mta-sts", "set", "hosted.test", "--mode", "enforce"]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let second = published_id(d, "hosted.test");
    assert_ne!(second, first, "the id follows the policy");
    while !get(&ca_file, "mta-sts.hosted.test", policy_path)
        .1
        .contains("mode: enforce")
    {
        assert!(Instant::now() < deadline, "the new mode is never served");
        std::thread::sleep(Duration::from_millis(200));
    }
    knot.replace_zone(&zone("hosted.test", Some(&second)));
    unbound.restart();
    let seen = query(&unbound, &ca_file, "hosted.test", Some(&first));
    assert!(
        seen.contains(&format!("'{second}'")) && seen.contains("'mode': 'enforce'"),
        "{seen}"
    );

    // other.test's patterns miss mx2: enforce refused, unless forced.
    let refused = dmarcflow(d, &["mta-sts", "set", "other.test", "--mode", "enforce"]);
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{why}");
    assert!(
        why.contains("do not cover the MX host mx2.other.test"),
        "{why}"
    );
    let forced = dmarcflow(
        d,
        &[
            "mta-sts",
            "set",
            "other.test",
            "--mode",
            "enforce",
            "--force",
        ],
    );
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );

    // What is not hosted reveals nothing; a TLS name not hosted gets the
    // listener's own certificate.
    for (sni, host, path) in [
        (
            "reports.dmarcflow.test",
            "mta-sts.unknown.test",
            policy_path,
        ),
        ("mta-sts.hosted.test", "mta-sts.hosted.test", "/"),
        (
            "reports.dmarcflow.test",
            "reports.dmarcflow.test",
            policy_path,
        ),
        (
            "mta-sts.hosted.test",
            "mta-sts.hosted.test:443/../x",
            policy_path,
        ),
    ] {
        let (code, body) = get_as(&ca_file, sni, host, path);
        assert_eq!(
            (code.as_str(), body.trim()),
            ("404", "not found"),
            "{host}{path}"
        );
    }
}

fn dig(server: &str, port: u16, args: &[&str]) -> String {
    let out = Command::new("dig")
        .args([
            &format!("@{server}"),
            "-p",
            &port.to_string(),
            "+time=2",
            "+tries=1",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The hosted zone: `_mta-sts.deleg.test` is a CNAME into dmarcflow's own
/// zone, answered by its DNS server; a real MTA-STS client resolving
/// through Unbound follows it to the served policy's id, and to the new one
/// after `mta-sts set`, with no change to the owner's zone. The server
/// answers only its zone, over UDP and TCP, and survives garbage.
#[test]
fn a_delegated_zone_follows_the_policy_without_a_dns_change() {
    if !["mta-sts-query", "curl", "unshare", "dig"]
        .iter()
        .all(|t| common::have(t))
    {
        return;
    }
    const SPF_RECORD: &str = "v=spf1 include:_spf.provider.deleg.test a:out.deleg.test -all";
    const LISTENER2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 22);
    const ZONE_SERVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 23);
    const RESOLVER2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 56);
    let zone_port = dmarcflow_testkit::ports::free_port();
    // `more`: the range a provider's nested include authorises (it moves
    // later in the test).
    let owner = |more: &str| {
        Zone::new(
        "deleg.test",
        format!(
            "@ 1 MX 10 mx1.deleg.test.\nmx1 1 A 127.0.0.2\nmta-sts 1 A {LISTENER2}\n\
             _mta-sts 1 CNAME deleg.test._mta-sts.zone.test.\n\
             _smtp._tls 1 CNAME deleg.test._smtp._tls.zone.test.\n\
             _spf.provider 1 TXT \"{provider}\"\n\
             more.provider 1 TXT \"v=spf1 ip4:{more} -all\"\n\
             out 1 A 192.0.2.77\n\
             orig 1 TXT \"{SPF_RECORD}\"\n\
             flat 1 TXT \"v=spf1 include:deleg.test._spf.zone.test -all\"\n",
            provider = "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:5::/48 include:more.provider.deleg.test -all"
        ),
    )
    };
    let Some(mut knot) = Knot::start(&[owner("203.0.113.0/25")]) else {
        return;
    };
    let zone_server = std::net::SocketAddr::from((ZONE_SERVER, zone_port));
    let Some(mut unbound) = Unbound::start(
        RESOLVER2,
        &[("deleg.test", knot.address()), ("zone.test", zone_server)],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let ca = TestCa::new("dmarcflow hosted zone test CA");
    let write = |name: &str, text: &str| {
        std::fs::write(d.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };
    write("ca.pem", &ca.cert_pem());
    let own = ca.issue(&["reports.dmarcflow.test"], -1, 90);
    write("own.pem", &own.cert_pem);
    write("own.key", &own.key_pem);
    let hosted = ca.issue(&["mta-sts.deleg.test"], -1, 90);
    write("hosted.pem", &hosted.cert_pem);
    write("hosted.key", &hosted.key_pem);
    write(
        "hosted.toml",
        &format!(
            "[http]\nlisten = \"{LISTENER2}:443\"\ntls_cert = \"own.pem\"\ntls_key = \"own.key\"\n\n\
             [enrich]\nnameservers = [\"{}\"]\n\n\
             [dns]\nlisten = \"{zone_server}\"\nzone = \"zone.test\"\n\n\
             spf_refresh_secs = 1\n\n[dns.spf.\"deleg.test\"]\nrecord = \"{SPF_RECORD}\"\n\n[alerts]\n\n\
             [mta_sts]\ncname_target = \"reports.dmarcflow.test\"\n\
             tlsrpt_rua = \"https://reports.dmarcflow.test/tlsrpt\"\nrefresh_secs = 1\n\n\
             [[mta_sts.certificate]]\nnames = [\"mta-sts.deleg.test\"]\ncert = \"hosted.pem\"\nkey = \"hosted.key\"\n\n\
             [mta_sts.domains.\"deleg.test\"]\nmode = \"testing\"\n",
            knot.address()
        ),
    );
    let records =
        String::from_utf8_lossy(&dmarcflow(d, &["mta-sts", "records", "deleg.test"]).stdout)
            .into_owned();
    assert!(
        records.contains("_mta-sts.deleg.test. CNAME deleg.test._mta-sts.zone.test."),
        "{records}"
    );
    assert!(
        records.contains("_smtp._tls.deleg.test. CNAME deleg.test._smtp._tls.zone.test."),
        "{records}"
    );
    let _service = common::Killed(
        common::isolated(d)
            .args(["--config", "hosted.toml", "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let server = ZONE_SERVER.to_string();
    let id_served = || {
        let answer = dig(
            &server,
            zone_port,
            &["+short", "deleg.test._mta-sts.zone.test", "TXT"],
        );
        answer
            .split("id=")
            .nth(1)
            .map(|id| id.trim().trim_end_matches('"').to_owned())
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while id_served().is_empty() {
        assert!(Instant::now() < deadline, "the zone never answers");
        std::thread::sleep(Duration::from_millis(200));
    }
    let first = id_served();
    let ca_file = d.join("ca.pem");
    let seen = query(&unbound, &ca_file, "deleg.test", None);
    assert!(
        seen.contains(&format!("'{first}'")) && seen.contains("'mode': 'testing'"),
        "{seen}"
    );

    // The mode changes; the zone follows; the owner's zone does not move.
    let set = dmarcflow(d, &["mta-sts", "set", "deleg.test", "--mode", "enforce"]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    while id_served() == first {
        assert!(
            Instant::now() < deadline,
            "the zone never follows the policy"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let second = id_served();
    unbound.restart();
    let seen = query(&unbound, &ca_file, "deleg.test", Some(&first));
    assert!(
        seen.contains(&format!("'{second}'")) && seen.contains("'mode': 'enforce'"),
        "{seen}"
    );

    // Only its zone; TCP too; the TLS-RPT record; garbage survived.
    let refused = dig(&server, zone_port, &["example.org", "TXT"]);
    assert!(refused.contains("status: REFUSED"), "{refused}");
    let tls = dig(
        &server,
        zone_port,
        &["+tcp", "+short", "deleg.test._smtp._tls.zone.test", "TXT"],
    );
    assert!(
        tls.contains("v=TLSRPTv1; rua=https://reports.dmarcflow.test/tlsrpt"),
        "{tls}"
    );
    let absent = dig(
        &server,
        zone_port,
        &["other.test._mta-sts.zone.test", "TXT"],
    );
    assert!(absent.contains("status: NXDOMAIN"), "{absent}");
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    for garbage in [&b"\x00"[..], &[0xffu8; 12][..], &[0x41u8; 600][..]] {
        let _ = socket.send_to(garbage, zone_server);
    }
    assert_eq!(id_served(), second, "the server survives malformed queries");

    // Flattened SPF: the chain in the zone authorises exactly what the
    // original tree does, as a real SPF evaluator (pyspf, through Unbound)
    // sees both.
    let records =
        String::from_utf8_lossy(&dmarcflow(d, &["mta-sts", "records", "deleg.test"]).stdout)
            .into_owned();
    assert!(
        records.contains("deleg.test. TXT \"v=spf1 include:deleg.test._spf.zone.test -all\""),
        "{records}"
    );
    let chain = dig(
        &server,
        zone_port,
        &["+short", "deleg.test._spf.zone.test", "TXT"],
    );
    assert!(
        chain.contains("ip4:198.51.100.0/24") && chain.contains("ip4:192.0.2.77"),
        "{chain}"
    );
    let resolv = unbound.resolv_conf();
    let evaluate = |ip: &str, domain: &str| -> String {
        let script = format!(
            "mount --bind {} /etc/resolv.conf && exec /usr/bin/python3 -c \"import spf; print(spf.check2(i='{ip}', s='x@{domain}', h='mx.example')[0])\"",
            resolv.display()
        );
        let out = Command::new("unshare")
            .args(["--mount", "sh", "-c", &script])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    if !Command::new("/usr/bin/python3")
        .args(["-c", "import spf"])
        .status()
        .is_ok_and(|s| s.success())
    {
        missing::<()>("pyspf (python3-spf)", ".ci/run installs it");
        return;
    }
    for ip in [
        "198.51.100.9",
        "203.0.113.5",
        "192.0.2.77",
        "2001:db8:5::1",
        "203.0.113.200",
        "192.0.2.78",
        "10.0.0.1",
    ] {
        let (original, flattened) = (
            evaluate(ip, "orig.deleg.test"),
            evaluate(ip, "flat.deleg.test"),
        );
        assert!(!original.is_empty(), "no evaluation for {ip}");
        assert_eq!(flattened, original, "{ip}");
    }
    assert_eq!(evaluate("203.0.113.5", "flat.deleg.test"), "pass");
    assert_eq!(evaluate("203.0.113.200", "flat.deleg.test"), "fail");

    // The provider's range moves: the next refresh serves the new chain,
    // and the alert names what moved.
    knot.replace_zone(&owner("203.0.113.128/25"));
    let moved = Instant::now() + Duration::from_secs(30);
    while !dig(
        &server,
        zone_port,
        &["+short", "deleg.test._spf.zone.test", "TXT"],
    )
    .contains("203.0.113.128/25")
    {
        assert!(
            Instant::now() < moved,
            "the chain never follows the provider"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let alerts = dmarcflow(d, &["alerts"]);
    let told = String::from_utf8_lossy(&alerts.stdout).into_owned();
    assert!(
        told.lines().any(|l| l == "firing\tspf_flattening_changed\tthe flattened SPF of deleg.test changed (a provider's ranges moved): added ip4:203.0.113.128/25; removed ip4:203.0.113.0/25"),
        "{told}{}",
        String::from_utf8_lossy(&alerts.stderr)
    );
}
