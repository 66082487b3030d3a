//! Who sent a report, checked end to end: `dmarcflow run` (the embedded
//! store) with the SMTP listener and `verify_reports`, its resolver pointed
//! at a real authoritative server (Knot) that publishes sender.example's
//! DKIM key. swaks delivers two aggregate reports over STARTTLS: one
//! DKIM-signed by sender.example (the reporter it names), one unsigned.
//! The first is stored `aligned` with the signing domain, the second
//! `unsigned`; both are stored (`unauthenticated` keeps its default).
//!
//! Needs knotd, swaks and openssl; skips without them, except under CI.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{certificate, free_port, have, wait_for};
use dmarcflow_testkit::dkim;
use dmarcflow_testkit::knot::{Knot, Zone};

const SEED: [u8; 32] = [11; 32];

/// An aggregate report email from sender.example's reporting address,
/// signed by `seed` as d=sender.example when given.
fn report_email(id: &str, signed: bool) -> Vec<u8> {
    let message = format!(
        "From: DMARC Reports <noreply-dmarc@sender.example>\r\n\
         To: dmarc@example.com\r\n\
         Subject: Report Domain: example.com Submitter: sender.example Report-ID: {id}\r\n\
         Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\
         Message-ID: <{id}@sender.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/xml\r\n\
         \r\n\
         <?xml version=\"1.0\"?><feedback><report_metadata><org_name>Sender</org_name>\
         <email>noreply-dmarc@sender.example</email><report_id>{id}</report_id><date_range>\
         <begin>1704067200</begin><end>1704153599</end></date_range></report_metadata>\
         <policy_published><domain>example.com</domain><p>none</p></policy_published><record>\
         <row><source_ip>192.0.2.1</source_ip><count>3</count></row><identifiers>\
         <header_from>example.com</header_from></identifiers><auth_results><spf>\
         <domain>example.com</domain><result>pass</result></spf></auth_results></record>\
         </feedback>\r\n"
    );
    if signed {
        dkim::sign(message.as_bytes(), SEED, "sender.example", "k1")
    } else {
        message.into_bytes()
    }
}

fn query(dir: &Path, sql: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(["query", sql])
        .current_dir(dir)
        .env_remove("DMARCFLOW_CONFIG")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env("DMARCFLOW_SQLITE_PATH", dir.join("store.db"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_report_signed_by_its_reporter_is_stored_aligned() {
    if !(have("swaks") && have("openssl")) {
        return;
    }
    let zone = Zone::new(
        "sender.example",
        format!(
            "@ 300 TXT \"v=spf1 -all\"\nk1._domainkey 300 TXT \"{}\"\n",
            dkim::record(SEED)
        ),
    );
    let Some(knot) = Knot::start(&[zone]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let at = |name: &str| dir.path().join(name).display().to_string();
    certificate(dir.path(), "localhost");
    let smtp = free_port();
    let mut service = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .arg("run")
        .current_dir(dir.path())
        .env_remove("DMARCFLOW_CONFIG")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_KAFKA_BROKERS")
        .env_remove("DMARCFLOW_IMAP_HOST")
        .env_remove("DMARCFLOW_HTTP_LISTEN")
        .env_remove("DMARCFLOW_ALERTS_WEBHOOKS")
        .env("DMARCFLOW_SQLITE_PATH", at("store.db"))
        .env("DMARCFLOW_BATCH_MAX_AGE_MS", "100")
        .env("DMARCFLOW_SMTP_LISTEN", format!("127.0.0.1:{smtp}"))
        .env("DMARCFLOW_SMTP_HOSTNAME", "localhost")
        .env("DMARCFLOW_SMTP_TLS_CERT", at("cert.pem"))
        .env("DMARCFLOW_SMTP_TLS_KEY", at("key.pem"))
        .env("DMARCFLOW_SMTP_ALLOWED_RECIPIENTS", "dmarc@example.com")
        .env("DMARCFLOW_ENRICH_DNS", "true")
        .env("DMARCFLOW_ENRICH_NAMESERVERS", knot.address().to_string())
        .env("DMARCFLOW_ENRICH_VERIFY_REPORTS", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    wait_for(smtp);
    for (id, signed) in [("signed-1", true), ("unsigned-2", false)] {
        let mail = dir.path().join(format!("{id}.eml"));
        std::fs::write(&mail, report_email(id, signed)).unwrap_or_else(|e| panic!("{e}"));
        let (ok, log) = common::swaks(smtp, &mail, true);
        assert!(ok, "{id}: {log}");
    }
    // Each 250 came after its report was stored; stop the service cleanly.
    let _ = Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status();
    let status = service.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status}");
    let rows = query(
        dir.path(),
        "SELECT reporter_report_id, reporter_auth, reporter_dkim, reporter_dkim_domain, \
         reporter_authenticated FROM aggregate_reports ORDER BY reporter_report_id",
    );
    let rows: Vec<&str> = rows.lines().skip(1).collect();
    assert_eq!(
        rows,
        [
            "signed-1\taligned\tpass\tsender.example\t1",
            "unsigned-2\tunsigned\t\t\t0"
        ]
    );
}
