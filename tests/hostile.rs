//! The hostile battery (`parse/tests/hostile/cases.rs`) through the real
//! `dmarcflow parse`, one process per case: every case is parsed or
//! rejected with one of its expected reasons, under 256 MB of peak RSS and
//! within seconds (bounds on a hostile input's cost, not a benchmark).
//!
//! The cases are written to files by a child (this test binary, run again):
//! a child `dmarcflow` starts as a copy of its parent, and the kernel's peak
//! RSS of the child would include a parent that had built a gigabyte bomb.

mod common;
#[path = "../parse/tests/hostile/cases.rs"]
mod hostile;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MAX_RSS: u64 = 256 << 20;
/// Generous: the slowest case takes about 3 s on the project's machine.
const MAX_WALL: Duration = Duration::from_secs(60);

const WRITE_TO: &str = "DMARCFLOW_HOSTILE_WRITE_TO";

/// Run by the test below in a child: writes every case and a line of its
/// expectations (`name`, `file`, `expect`, `min_outcomes`) to `cases.jsonl`.
#[test]
fn write_cases_when_asked() {
    let Some(dir) = std::env::var_os(WRITE_TO) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut index = String::new();
    for name in hostile::names() {
        let case = hostile::build(name).unwrap_or_else(|| panic!("{name}"));
        std::fs::write(dir.join(case.file), &case.bytes).unwrap_or_else(|e| panic!("{e}"));
        let line = serde_json::json!({
            "name": case.name,
            "file": case.file,
            "expect": case.expect,
            "min_outcomes": case.min_outcomes,
        });
        index.push_str(&format!("{line}\n"));
    }
    std::fs::write(dir.join("cases.jsonl"), index).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn hostile_inputs_cost_bounded_memory_and_time() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let wrote = Command::new(std::env::current_exe().unwrap_or_else(|e| panic!("{e}")))
        .args(["--exact", "write_cases_when_asked", "--test-threads=1"])
        .env(WRITE_TO, dir.path())
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(wrote.success(), "writing the cases failed");
    let index =
        std::fs::read_to_string(dir.path().join("cases.jsonl")).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for line in index.lines() {
        let meta: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}"));
        let name = meta["name"].as_str().unwrap_or("?");
        let expect: Vec<&str> = (meta["expect"].as_array().into_iter().flatten())
            .filter_map(|v| v.as_str())
            .collect();
        let min_outcomes = meta["min_outcomes"].as_u64().unwrap_or(1) as usize;
        let input = dir.path().join(meta["file"].as_str().unwrap_or("?"));
        let rejects = dir.path().join(format!("{name}.rejects"));
        let reports = dir.path().join(format!("{name}.reports"));
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
            .arg("parse")
            .arg("--rejects")
            .arg(&rejects)
            .arg(&input)
            .stdout(std::fs::File::create(&reports).unwrap_or_else(|e| panic!("{e}")))
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let (code, rss) = common::peak_rss::wait_measured(child).unwrap_or_else(|e| panic!("{e}"));
        let wall = started.elapsed();
        let mut classes: Vec<String> = Vec::new();
        let reported = std::fs::read_to_string(&reports).unwrap_or_default();
        classes.extend(reported.lines().map(|_| "ok".to_owned()));
        let rejected = std::fs::read_to_string(&rejects).unwrap_or_default();
        for line in rejected.lines() {
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            classes.push(value["reason"].as_str().unwrap_or("?").to_owned());
        }
        let unexpected: Vec<&String> = classes
            .iter()
            .filter(|c| !expect.contains(&c.as_str()))
            .collect();
        table.push(format!(
            "{name:36} {:>6.1} MB in {:>6.1} MB RSS {:>5.2} s  {} x {}",
            std::fs::metadata(&input).map_or(0, |m| m.len()) as f64 / 1e6,
            rss as f64 / 1e6,
            wall.as_secs_f64(),
            classes.len(),
            classes.first().map_or("nothing", String::as_str),
        ));
        if !matches!(code, Some(0 | 1)) {
            failures.push(format!("{name}: exit {code:?}"));
        }
        if classes.len() < min_outcomes || !unexpected.is_empty() {
            failures.push(format!(
                "{name}: expected {expect:?}, got {} outcomes, unexpected {:?}",
                classes.len(),
                unexpected.iter().take(3).collect::<Vec<_>>()
            ));
        }
        if rss > MAX_RSS {
            failures.push(format!("{name}: peak RSS {} MB", rss >> 20));
        }
        if wall > MAX_WALL {
            failures.push(format!("{name}: took {wall:?}"));
        }
        for path in [&input, &rejects, &reports] {
            let _ = std::fs::remove_file(path);
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
