//! Hosted policy hosts' certificates from a real ACME CA: Debian's pebble
//! issues a certificate for `mta-sts.acme.test` after validating the
//! TLS-ALPN-01 challenge dmarcflow answers on its HTTPS listener (pebble
//! resolves the name through Unbound and Knot). The certificate is served
//! (verified against pebble's root), renewed before its end (pebble issues
//! 30-second certificates here) and swapped without a restart; with pebble
//! down, the old one stays served and `dmarcflow alerts` tells.
//!
//! Needs pebble, knotd, unbound, curl and openssl; skips without them,
//! except under CI.

mod common;

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dmarcflow_testkit::knot::{Knot, Zone};
use dmarcflow_testkit::pki::TestCa;
use dmarcflow_testkit::ports::free_port;
use dmarcflow_testkit::services::program;
use dmarcflow_testkit::unbound::Unbound;

const LISTENER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 21);
const RESOLVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 55);
const HOST: &str = "mta-sts.acme.test";

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The serial of the certificate the listener serves for `HOST`.
fn served_serial() -> String {
    let out = Command::new("sh")
        .args([
            "-c",
            &format!(
                "openssl s_client -connect {LISTENER}:443 -servername {HOST} </dev/null 2>/dev/null | openssl x509 -noout -serial"
            ),
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The serial of the certificate dmarcflow keeps for `HOST`.
fn kept_serial(dir: &Path) -> String {
    let path = dir.join("acme").join(format!("{HOST}.pem"));
    if !path.exists() {
        return String::new();
    }
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn dmarcflow(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = common::isolated(dir)
        .args(["--config", "acme.toml"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn certificates_from_pebble_renewed_and_kept_through_an_outage() {
    if !["curl", "openssl"].iter().all(|t| common::have(t)) {
        return;
    }
    let Some(pebble) = program(&["/usr/bin/pebble"], "pebble") else {
        return;
    };
    let zone = Zone::new(
        "acme.test",
        format!("@ 1 MX 10 mx.acme.test.\nmx 1 A 127.0.0.2\nmta-sts 1 A {LISTENER}\n"),
    );
    let Some(knot) = Knot::start(&[zone]) else {
        return;
    };
    let Some(_unbound) = Unbound::start(RESOLVER, &[("acme.test", knot.address())]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let write = |name: &str, text: &str| {
        std::fs::write(d.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    };
    let ca = TestCa::new("dmarcflow ACME test CA");
    write("ca.pem", &ca.cert_pem());
    let api = ca.issue(&["localhost"], -1, 90);
    write("pebble.pem", &api.cert_pem);
    write("pebble.key", &api.key_pem);
    let own = ca.issue(&["reports.dmarcflow.test"], -1, 90);
    write("own.pem", &own.cert_pem);
    write("own.key", &own.key_pem);
    let (api_port, management) = (free_port(), free_port());
    write(
        "pebble.json",
        &format!(
            r#"{{"pebble": {{"listenAddress": "127.0.0.1:{api_port}", "managementListenAddress": "127.0.0.1:{management}",
            "certificate": "pebble.pem", "privateKey": "pebble.key", "httpPort": 5002, "tlsPort": 443,
            "ocspResponderURL": "", "externalAccountBindingRequired": false, "certificateValidityPeriod": 30}}}}"#
        ),
    );
    let start_pebble = || {
        let child = Command::new(&pebble)
            .args([
                "-config",
                "pebble.json",
                "-dnsserver",
                &format!("{RESOLVER}:53"),
            ])
            .current_dir(d)
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("pebble: {e}"));
        wait_until("pebble listening", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", api_port)).is_ok()
        });
        common::Killed(child)
    };
    let pebble_process = start_pebble();
    write(
        "acme.toml",
        &format!(
            "[http]\nlisten = \"{LISTENER}:443\"\ntls_cert = \"own.pem\"\ntls_key = \"own.key\"\n\n\
             [enrich]\nnameservers = [\"{}\"]\n\n\
             [mta_sts]\nrefresh_secs = 1\n\n\
             [mta_sts.acme]\ndirectory = \"https://localhost:{api_port}/dir\"\ndirectory_ca = \"ca.pem\"\n\
             contact = [\"mailto:ops@reports.dmarcflow.test\"]\nstate_dir = \"acme\"\ncheck_secs = 2\norder_timeout_secs = 20\n\n\
             [mta_sts.domains.\"acme.test\"]\nmode = \"testing\"\n\n\
             [alerts]\n",
            knot.address()
        ),
    );
    let _service = common::Killed(
        common::isolated(d)
            .args(["--config", "acme.toml", "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}")),
    );
    // Issued, kept and served.
    wait_until("a certificate from pebble", Duration::from_secs(60), || {
        !kept_serial(d).is_empty() && served_serial() == kept_serial(d)
    });
    let first = kept_serial(d);
    // Served with pebble's chain: verified against its root.
    let root = Command::new("curl")
        .args(["-s", "--cacert", "ca.pem"])
        .arg(format!("https://localhost:{management}/roots/0"))
        .current_dir(d)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    write("pebble-root.pem", &String::from_utf8_lossy(&root.stdout));
    let fetched = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--cacert",
            "pebble-root.pem",
        ])
        .args(["--resolve", &format!("{HOST}:443:{LISTENER}")])
        .arg(format!("https://{HOST}/.well-known/mta-sts.txt"))
        .current_dir(d)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(String::from_utf8_lossy(&fetched.stdout), "200");

    // Renewed before its end (30 s certificates: due after 20 s), swapped
    // in while running.
    wait_until("a renewal", Duration::from_secs(60), || {
        let kept = kept_serial(d);
        !kept.is_empty() && kept != first && served_serial() == kept
    });
    let renewed = kept_serial(d);

    // The CA down: renewals fail, the last certificate stays served, and
    // the failure is told.
    drop(pebble_process);
    wait_until("a failed renewal recorded", Duration::from_secs(60), || {
        let (_, out) = dmarcflow(
            d,
            &[
                "query",
                "SELECT error FROM certificate_renewals WHERE error != ''",
            ],
        );
        out.lines().count() > 1
    });
    assert_eq!(
        served_serial(),
        renewed,
        "the old certificate is still served"
    );
    let (ok, out) = dmarcflow(d, &["alerts"]);
    assert!(ok || out.contains("certificate_renewal_failed"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("firing\tcertificate_renewal_failed\tthe certificate of mta-sts.acme.test could not be renewed")
            && l.contains("is still served")),
        "{out}"
    );
}
