//! The README's first commands on the examples shipped in the repository
//! (`examples/`, written by `generate examples`): no server, no corpus.

mod common;

use std::path::Path;

use common::embedded as dmarcflow;

#[test]
fn run_on_the_examples_then_report() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let examples = examples.to_string_lossy();
    let (ok, _, stderr) = dmarcflow(dir.path(), &["run", &examples]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("11 inputs, 11 reports found (11 stored, 0 already stored), 0 rejected"),
        "{stderr}"
    );
    assert!(dir.path().join("dmarcflow.db").is_file());
    for (table, n) in [
        ("aggregate_reports", "9"),
        ("failure_reports", "1"),
        ("tlsrpt_reports", "1"),
    ] {
        let (ok, out, stderr) = dmarcflow(
            dir.path(),
            &["query", &format!("SELECT count(*) FROM {table}")],
        );
        assert!(ok, "{stderr}");
        assert_eq!(out.lines().nth(1).map(str::trim), Some(n), "{table}: {out}");
    }
    let (ok, report, stderr) = dmarcflow(
        dir.path(),
        &[
            "report",
            "--domain",
            "example.com",
            "--from",
            "2023-11-01",
            "--to",
            "2023-12-31",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(
        report.starts_with("example.com from 2023-11-01 to 2023-12-31"),
        "{report}"
    );
    // It opens with the path to enforcement: who sends as the domain and
    // what to fix first.
    assert!(
        report.contains(
            "Enforcement: not ready for the next step (published: p=reject; sp=none; pct=100)"
        ) && report.contains(
            "  - Mailchimp sends 3,958 messages as example.com signed d=mcsv.net that fail DMARC"
        ),
        "{report}"
    );
    // By sender, with each sender's classes: no [enrich] here, so every
    // sender is unnamed in the store, and their mail is in every class.
    let unknown = report
        .lines()
        .skip_while(|l| !l.starts_with("By sender"))
        .find(|l| l.starts_with("(unknown)"))
        .unwrap_or_default();
    assert!(
        unknown.ends_with("aligned, forwarded, misaligned, unauthorised"),
        "{report}"
    );
    let by_result: Vec<Vec<&str>> = report
        .lines()
        .skip_while(|l| !l.starts_with("By result"))
        .skip(3)
        .map(|l| l.split_whitespace().collect())
        .filter(|f: &Vec<&str>| f.len() == 4)
        .collect();
    let total: u64 = by_result
        .iter()
        .filter_map(|f| f[3].parse::<u64>().ok())
        .sum();
    assert_eq!(total, 75_937, "{report}");
    assert!(
        by_result.contains(&vec!["reject", "fail", "fail", "6983"]),
        "{report}"
    );
    // Run again: everything is already stored.
    let (ok, _, stderr) = dmarcflow(dir.path(), &["run", &examples]);
    assert!(
        ok && stderr.contains("(0 stored, 11 already stored)"),
        "{stderr}"
    );
}
