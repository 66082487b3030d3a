//! `dmarcflow parse` end to end: files in, JSON lines and rejections out.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const XML: &str = "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>Mail Co</org_name>\
<email>d@mail.example</email><report_id>77</report_id><date_range><begin>1</begin><end>2</end></date_range>\
</report_metadata><policy_published><domain>sender.example</domain><p>none</p></policy_published>RECORDS</feedback>";

const RECORD: &str = "<record><row><source_ip>192.0.2.1</source_ip><count>4</count></row><identifiers>\
<header_from>sender.example</header_from></identifiers><auth_results><spf><domain>sender.example</domain>\
<result>pass</result></spf></auth_results></record>";

fn report(records: usize) -> String {
    XML.replace("RECORDS", &RECORD.repeat(records))
}

fn run(args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(args)
        .output()
        .expect("run dmarcflow");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).expect("write fixture");
    p.display().to_string()
}

#[test]
fn good_inputs_exit_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a.xml", report(2).as_bytes());
    let (code, lines, stderr) = run(&["parse", &dir.path().display().to_string()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "aggregate");
    assert_eq!(lines[0]["records"].as_array().map(Vec::len), Some(2));
}

#[test]
fn rejects_go_to_their_file_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "good.xml", report(1).as_bytes());
    write(dir.path(), "empty.xml", b"");
    write(dir.path(), "other.xml", b"<html/>");
    let rejects = dir.path().join("rejects.jsonl");
    let (code, lines, _) = run(&[
        "parse",
        &dir.path().join("good.xml").display().to_string(),
        &dir.path().join("empty.xml").display().to_string(),
        &dir.path().join("other.xml").display().to_string(),
        "--rejects",
        &rejects.display().to_string(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(lines.len(), 1);
    let rejected: Vec<Value> = std::fs::read_to_string(&rejects)
        .expect("rejects file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let reasons: Vec<&str> = rejected
        .iter()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert_eq!(reasons, vec!["empty", "not_dmarc"]);
    assert!(rejected[0]["path"]
        .as_str()
        .is_some_and(|p| p.ends_with("empty.xml")));
}

#[test]
fn streamed_output_equals_in_memory_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "big.xml", report(300).as_bytes());
    let (code, in_memory, _) = run(&["parse", &path]);
    assert_eq!(code, 0);
    let (code, streamed, stderr) = run(&["parse", "--stream-threshold", "1000", &path]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(streamed, in_memory);
}

#[test]
fn missing_path_is_an_io_error() {
    let (code, _, stderr) = run(&["parse", "/nonexistent/dmarcflow-input"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nonexistent"));
}

#[test]
fn every_cause_is_printed_once() {
    let (_, _, stderr) = run(&["parse", "/nonexistent/dmarcflow-input"]);
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .arg("migrate")
        .env("DMARCFLOW_CLICKHOUSE_URL", "http://127.0.0.1:1")
        .env_remove("DMARCFLOW_CONFIG")
        .output()
        .expect("run dmarcflow");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert_eq!(
        stderr.matches("client error (Connect)").count(),
        1,
        "{stderr}"
    );
    assert_eq!(stderr.matches("network error").count(), 1, "{stderr}");
}
