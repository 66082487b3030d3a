//! `[enrich]` through the binary: `dmarcflow parse` of the shipped examples
//! with an MMDB file (GeoLite2-ASN layout, written here for the 198.18.0.0/15
//! benchmark range the examples use) and DNS off: every record carries its
//! `source`, the failure report too; `dmarcflow run` stores the same reports
//! as without enrichment, in columns and views `report --by` shows; a
//! missing MMDB file stops the command at start; a resolver that does not
//! answer delays nothing beyond its timeout and loses nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn asn_database(path: &Path) {
    #[derive(serde::Serialize)]
    struct Asn {
        autonomous_system_number: u32,
        autonomous_system_organization: &'static str,
    }
    let mut db = maxminddb_writer::Database::default();
    db.metadata.database_type = "GeoLite2-ASN".into();
    db.metadata.binary_format_major_version = 2;
    let data = db
        .insert_value(Asn {
            autonomous_system_number: 64512,
            autonomous_system_organization: "Benchmark Networks",
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
    let network: maxminddb_writer::paths::IpAddrWithMask =
        "198.18.0.0/15".parse().unwrap_or_else(|e| panic!("{e:?}"));
    db.insert_node(network, data);
    let bytes = db.write_to(Vec::new()).unwrap_or_else(|e| panic!("{e:?}"));
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{e}"));
}

fn dmarcflow(dir: &Path, mmdb: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(args)
        .current_dir(dir)
        .env("DMARCFLOW_ENRICH_MMDB", mmdb)
        .env("DMARCFLOW_ENRICH_DNS", "false")
        .env_remove("DMARCFLOW_CONFIG")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_KAFKA_BROKERS")
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn parse_and_run_carry_the_source_of_every_address() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mmdb = dir.path().join("asn.mmdb");
    asn_database(&mmdb);
    let examples = examples().display().to_string();
    let out = dmarcflow(dir.path(), &mmdb, &["parse", "--no-progress", &examples]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut records, mut failures) = (0, 0);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let report: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        assert_eq!(report["schema_version"], 2);
        match report["kind"].as_str() {
            Some("aggregate") => {
                for record in report["records"].as_array().into_iter().flatten() {
                    let source = &record["source"];
                    assert_eq!(source["ip"], record["source_ip"]);
                    assert_eq!(source["ptr"], serde_json::Value::Null, "DNS is off");
                    if record["source_ip"]
                        .as_str()
                        .is_some_and(|ip| ip.starts_with("198.1"))
                    {
                        assert_eq!(source["asn"], 64512);
                        assert_eq!(source["as_name"], "Benchmark Networks");
                    }
                    records += 1;
                }
            }
            Some("failure") => {
                assert!(report["source"].is_object(), "{report}");
                failures += 1;
            }
            _ => {}
        }
    }
    assert!(
        records > 20 && failures == 1,
        "{records} records, {failures} failure reports"
    );

    let run = dmarcflow(dir.path(), &mmdb, &["run", &examples]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("11 inputs, 11 reports found (11 stored"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    // Stored in the records' columns and counted in the views.
    let query = dmarcflow(
        dir.path(),
        &mmdb,
        &[
            "query",
            "SELECT source_asn, source_as_name, sum(message_count) FROM aggregate_records \
             WHERE source_ip LIKE '198.1%' GROUP BY 1, 2",
        ],
    );
    let rows = String::from_utf8_lossy(&query.stdout).into_owned();
    let network: Vec<&str> = rows.lines().nth(1).unwrap_or("").split('\t').collect();
    assert_eq!(network[..2], ["64512", "Benchmark Networks"], "{rows}");
    let routed: u64 = network[2].parse().unwrap_or(0);
    assert!(routed > 0, "{rows}");
    let report = dmarcflow(
        dir.path(),
        &mmdb,
        &[
            "report",
            "--domain",
            "example.com",
            "--from",
            "2023-11-01",
            "--to",
            "2023-12-31",
            "--by",
            "network,sender",
        ],
    );
    let text = String::from_utf8_lossy(&report.stdout).into_owned();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("64512"))
        .unwrap_or_else(|| panic!("{text}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[1..3], ["Benchmark", "Networks"], "{text}");
    assert!(text.contains("\nBy sender\n"), "{text}");
    assert!(!text.contains("By result"), "{text}");

    let missing = dmarcflow(
        dir.path(),
        &dir.path().join("nowhere.mmdb"),
        &["parse", &examples],
    );
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a missing database is an error at start"
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere.mmdb"));
}

/// Reverse DNS pointed at a port where no server answers: every record is
/// stored, flagged `source_lookup_failed`, and the run takes about the
/// timeout per distinct wait, not forever.
#[test]
fn a_dead_resolver_loses_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mmdb = dir.path().join("asn.mmdb");
    asn_database(&mmdb);
    // A port nothing listens on (bound, then released).
    let dead = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(["run", &examples().display().to_string()])
        .current_dir(dir.path())
        .env("DMARCFLOW_ENRICH_MMDB", &mmdb)
        .env("DMARCFLOW_ENRICH_DNS", "true")
        .env("DMARCFLOW_ENRICH_NAMESERVERS", dead.to_string())
        .env("DMARCFLOW_ENRICH_TIMEOUT_MS", "300")
        .env_remove("DMARCFLOW_CONFIG")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_KAFKA_BROKERS")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("11 inputs, 11 reports found (11 stored"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let query = dmarcflow(
        dir.path(),
        &mmdb,
        &[
            "query",
            "SELECT count(*), sum(source_lookup_failed), sum(source_asn = 64512) \
             FROM aggregate_records",
        ],
    );
    let rows = String::from_utf8_lossy(&query.stdout).into_owned();
    let counts: Vec<u64> = rows
        .lines()
        .nth(1)
        .unwrap_or("")
        .split('\t')
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    // Every record stored and flagged; the MMDB fields still filled.
    assert!(counts[0] > 20, "{rows}");
    assert_eq!(counts[1], counts[0], "{rows}");
    assert!(counts[2] > 0, "{rows}");
}
