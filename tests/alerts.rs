//! `dmarcflow alerts` through the binary over the shipped examples in the
//! embedded store: the conditions they hold fire once, with the numbers
//! the examples carry; a second round (a new process) fires nothing.

use std::path::Path;
use std::process::Command;

fn dmarcflow(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(args)
        .current_dir(dir)
        .env_remove("DMARCFLOW_CONFIG")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_KAFKA_BROKERS")
        .env_remove("DMARCFLOW_ALERTS_WEBHOOKS")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("\tnew_source\t"))
            .count(),
        12,
        "{out}"
    );
    assert!(stderr.contains("16 transitions, 16 firing"), "{stderr}");
    let (ok, out, stderr) = round(dir.path());
    assert!(ok && out.is_empty(), "{out}{stderr}");
    assert!(stderr.contains("0 transitions, 16 firing"), "{stderr}");
    // Without [alerts]: an error that says so.
    let (ok, _, stderr) = dmarcflow(dir.path(), &["alerts"]);
    assert!(!ok && stderr.contains("no [alerts]"), "{stderr}");
}
