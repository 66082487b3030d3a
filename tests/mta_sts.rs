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

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use dmarcflow_testkit::knot::{Knot, Zone};
use dmarcflow_testkit::pki::TestCa;
use dmarcflow_testkit::services::missing;
use dmarcflow_testkit::unbound::Unbound;

/// The listener's address (port 443: the client asks for no other).
const LISTENER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 20);
/// Unbound's (port 53).
const RESOLVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 53);

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
    Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(["--config", "hosted.toml"])
        .args(args)
        .current_dir(dir)
        .env_remove("DMARCFLOW_CONFIG")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_KAFKA_BROKERS")
        .env_remove("DMARCFLOW_HTTP_LISTEN")
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

fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    found || missing::<()>(tool, ".ci/run installs it").is_some()
}

#[test]
fn a_real_mta_sts_client_gets_the_hosted_policy_and_its_changes() {
    if !["mta-sts-query", "curl", "unshare"].iter().all(|t| have(t)) {
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

    let _service = Service(
        Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
            .args(["--config", "hosted.toml", "run"])
            .current_dir(d)
            .env_remove("DMARCFLOW_CONFIG")
            .env_remove("DMARCFLOW_CLICKHOUSE_URL")
            .env_remove("DMARCFLOW_KAFKA_BROKERS")
            .env_remove("DMARCFLOW_HTTP_LISTEN")
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
