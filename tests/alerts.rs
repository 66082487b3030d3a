//! `dmarcflow alerts` through the binary over the shipped examples in the
//! embedded store: the conditions they hold fire once, with the numbers
//! the examples carry; a second round (a new process) fires nothing.

mod common;

use std::path::Path;
use std::process::Command;

use common::embedded as dmarcflow;

#[test]
fn alerts_fire_once_over_the_examples() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (ok, _, stderr) = dmarcflow(dir.path(), &["run", &examples.display().to_string()]);
    assert!(ok, "{stderr}");
    std::fs::write(
        dir.path().join("alerts.toml"),
        "[alerts]\nwindow_days = 3\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let round = |dir: &Path| {
        dmarcflow(
            dir,
            &["--config", "alerts.toml", "alerts", "--day", "2023-11-21"],
        )
    };
    let (ok, out, stderr) = round(dir.path());
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.contains(&"firing\ttls_new_result_type\tnew TLS failure for example.com: certificate-expired (9 sessions)"),
        "{out}"
    );
    assert!(
        lines.contains(&"firing\tfailure_reports\t1 failure reports (ruf) for example.com"),
        "{out}"
    );
    assert!(
        lines.contains(&"firing\ttls_failures\t12 TLS sessions to example.com failed (TLS-RPT)"),
        "{out}"
    );
    // The examples are all the store has of example.com: every source is
    // new on a domain never seen before, so none is announced.
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("\tnew_source\t"))
            .count(),
        0,
        "{out}"
    );
    assert!(
        lines.contains(&"firing\tfailing_source\t198.19.39.142 failed DMARC for example.com in 4252 of 4252 messages"),
        "{out}"
    );
    // At p=reject with sp=none, and little of its own failing in these
    // three days: ready for sp=reject.
    assert!(
        lines.contains(&"firing\tdomain_ready\texample.com is ready for its next policy step, sp=reject: \
of 4,371 messages from 2023-11-19 to 2023-11-21, enforcing would have lost 4 (0.09%) of your own and \
blocked 4,272 (97.74%) unauthorised"),
        "{out}"
    );
    // The examples' TLS reports quote an enforce policy, and failures:
    // senders refused delivery, per MX host and result.
    for (result, sessions) in [("certificate-expired", 9), ("starttls-not-supported", 3)] {
        let line = format!(
            "firing\tmta_sts_enforce_failures\texample.com enforces MTA-STS and senders refused delivery: \
             mx1.example.com: {result} seen by 1 sender since 2023-11-20 ({sessions} sessions)"
        );
        assert!(lines.contains(&line.as_str()), "{line}\n{out}");
    }
    assert!(stderr.contains("8 transitions, 8 firing"), "{stderr}");
    let (ok, out, stderr) = round(dir.path());
    assert!(ok && out.is_empty(), "{out}{stderr}");
    assert!(stderr.contains("0 transitions, 8 firing"), "{stderr}");
    // Without [alerts]: an error that says so.
    let (ok, _, stderr) = dmarcflow(dir.path(), &["alerts"]);
    assert!(!ok && stderr.contains("no [alerts]"), "{stderr}");
}

/// `[alerts] interval_minutes` inside `dmarcflow run` as a service: the
/// first round runs at start and posts to the webhook (a test HTTP server
/// here), the service stops cleanly on SIGTERM.
#[test]
fn the_run_service_evaluates_on_a_schedule() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (ok, _, stderr) = dmarcflow(dir.path(), &["run", &examples.display().to_string()]);
    assert!(ok, "{stderr}");
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}/alerts",
        hook.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    // The window reaches back to the examples' days (November 2023).
    std::fs::write(
        dir.path().join("alerts.toml"),
        format!(
            "[alerts]\nwindow_days = 2000\ninterval_minutes = 60\n\n[alerts.thresholds]\nnew_source_messages = 0\n\n[[alerts.webhook]]\nurl = \"{url}\"\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let service = common::isolated(dir.path())
        .args(["--config", "alerts.toml", "run"])
        .env("DMARCFLOW_HTTP_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    hook.set_nonblocking(false)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut bodies = Vec::new();
    // The examples' TLS-RPT failure types among the first notifications
    // (new sources are off here).
    let seen = |bodies: &[serde_json::Value]| {
        bodies
            .iter()
            .any(|b| b["rule"] == "tls_new_result_type" && b["subject"] == "certificate-expired")
    };
    while !seen(&bodies) && bodies.len() < 50 {
        let (mut stream, _) = hook.accept().unwrap_or_else(|e| panic!("{e}"));
        bodies.push(common::webhook_post(&mut stream));
    }
    let _ = Command::new("kill").arg(service.id().to_string()).status();
    let mut service = service;
    let status = service.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
    assert!(seen(&bodies), "{bodies:#?}");
    assert!(
        bodies.iter().all(|b| b["status"] == "firing"
            && b["domain"] == "example.com"
            && b["rule"] != "new_source"),
        "{bodies:#?}"
    );
}
