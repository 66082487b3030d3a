//! `dmarcflow run`, `query`, `report` and `migrate` end to end on the
//! embedded default: files in, a SQLite file out, a rerun storing nothing.

use std::path::Path;
use std::process::{Command, Output};

const XML: &str = "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>Mail Co</org_name>\
<email>d@mail.example</email><report_id>ID</report_id><date_range><begin>1704067200</begin>\
<end>1704153599</end></date_range></report_metadata><policy_published><domain>sender.example</domain>\
<p>reject</p></policy_published>RECORDS</feedback>";

const RECORD: &str = "<record><row><source_ip>192.0.2.IP</source_ip><count>4</count><policy_evaluated>\
<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row><identifiers>\
<header_from>sender.example</header_from></identifiers><auth_results><dkim><domain>sender.example</domain>\
<result>pass</result></dkim><spf><domain>sender.example</domain><result>fail</result></spf></auth_results></record>";

fn report(id: u32, records: usize) -> String {
    let records: String = (0..records)
        .map(|i| RECORD.replace("IP", &(i % 200).to_string()))
        .collect();
    XML.replace("ID", &id.to_string())
        .replace("RECORDS", &records)
}

fn dmarcflow(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(args)
        .current_dir(dir)
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("running dmarcflow: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_stores_once_and_reports() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(inbox.join("a.xml"), report(1, 3)).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(inbox.join("b.xml"), report(2, 2)).unwrap_or_else(|e| panic!("{e}"));
    // The same report mailed twice.
    std::fs::write(inbox.join("b-again.xml"), report(2, 2)).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(inbox.join("junk.txt"), "not a report").unwrap_or_else(|e| panic!("{e}"));

    let first = dmarcflow(dir.path(), &["run", "inbox"]);
    let err = text(&first.stderr);
    assert_eq!(first.status.code(), Some(1), "one input rejected: {err}");
    assert!(
        err.contains("3 reports found (2 stored, 1 already stored), 1 rejected"),
        "{err}"
    );
    assert!(err.contains("\"reason\":\"not_a_report\""), "{err}");
    assert!(
        dir.path().join("dmarcflow.db").is_file(),
        "the default store file"
    );

    let again = dmarcflow(dir.path(), &["run", "inbox"]);
    assert!(
        text(&again.stderr).contains("(0 stored, 3 already stored)"),
        "{}",
        text(&again.stderr)
    );

    let q = dmarcflow(
        dir.path(),
        &[
            "query",
            "SELECT count(*) AS reports, sum(message_count) AS messages FROM aggregate_reports",
        ],
    );
    assert_eq!(
        text(&q.stdout),
        "reports\tmessages\n2\t20\n",
        "{}",
        text(&q.stderr)
    );

    let r = dmarcflow(
        dir.path(),
        &[
            "report",
            "--domain",
            "sender.example",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-31",
        ],
    );
    let out = text(&r.stdout);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert!(
        out.contains(
            "192.0.2.0      8     8     0       100             8            0          8"
        ),
        "{out}"
    );
    assert!(out.contains("none         pass  fail     20"), "{out}");

    let m = dmarcflow(dir.path(), &["migrate"]);
    assert_eq!(text(&m.stdout), "dmarcflow.db: migrated\n");
}

#[test]
fn configuration_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("dmarcflow.toml"),
        "[clickhouse]\npassword = \"x\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dmarcflow(dir.path(), &["query", "SELECT 1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("password_file"),
        "{}",
        text(&out.stderr)
    );
}
