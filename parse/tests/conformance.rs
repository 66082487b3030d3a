//! Every file of the shared corpus: real and spec samples parse with the
//! record counts, message totals and TLS counters the inventory records;
//! negative samples are rejected with the expected reason; malformed ones
//! recover what is recoverable, or are rejected with a reason.

mod corpus;

use corpus::{inventory, parse_file, record_facts, tls_facts, Outcome};
use dmarcflow_schemas::Report;

/// Files that must be rejected, with the reason class. The inventory marks
/// them NEGATIVE (or "must error"); the class is ours.
const REJECTED: &[(&str, &str)] = &[
    ("domainaware-parsedmarc/aggregate/empty.xml", "empty"),
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-4.xml",
        "not_a_report",
    ),
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-4.xml.gz",
        "not_a_report",
    ),
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-4.xml.zip",
        "not_a_report",
    ),
    ("sisimai-set-of-emails/forensic/arf-02.eml", "not_dmarc"),
    ("sisimai-set-of-emails/forensic/arf-12.eml", "not_dmarc"),
    (
        "kimon1230-dmarc_report_reader/aggregate/non-dmarc.xml",
        "not_dmarc",
    ),
    (
        "trollByte-dmarc/aggregate/malformed_report.xml",
        "not_dmarc",
    ),
    // Malformed beyond recovery: no report id and no record survive.
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-1.xml",
        "invalid_report",
    ),
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-1.xml.gz",
        "invalid_report",
    ),
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-1.xml.zip",
        "invalid_report",
    ),
    (
        "kimon1230-dmarc_report_reader/aggregate/malformed.xml",
        "invalid_report",
    ),
    ("trollByte-dmarc/aggregate/malformed.xml", "invalid_report"),
    // RFC 5965 abuse examples: ARF, but not DMARC failure reports.
    ("stalwartlabs-mail-auth/forensic/001.eml", "not_dmarc"),
    ("stalwartlabs-mail-auth/forensic/002.eml", "not_dmarc"),
];

/// Malformed files we recover, with what must survive and the warning that
/// says what was repaired: (path, records, messages, warning prefix).
const RECOVERED: &[(&str, u64, u64, &str)] = &[
    (
        "domainaware-parsedmarc/aggregate/ikea.com!example.de!1538690400!1538776800.xml",
        1,
        1,
        "<feedback> found inside",
    ),
    (
        "domainaware-parsedmarc/aggregate/invalid_utf_8.xml",
        1,
        1,
        "invalid UTF-8 bytes replaced",
    ),
    (
        "domainaware-parsedmarc/aggregate/invalid_xml.xml",
        1,
        1,
        "unescaped '<' inside a value",
    ),
    (
        "patrickkerrigan-dmarc-parser/aggregate/dmarc-1-space.xml",
        3,
        10,
        "white space before the XML declaration",
    ),
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-3.xml",
        1,
        0,
        "unreadable number",
    ),
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-3.xml.gz",
        1,
        0,
        "unreadable number",
    ),
    (
        "stuartmaxwell-dmarc-report/aggregate/dmarc-invalid-3.xml.zip",
        1,
        0,
        "unreadable number",
    ),
];

fn totals(outcome: &Outcome) -> (u64, u64) {
    outcome
        .reports
        .iter()
        .fold((0, 0), |(r, m), (_, report)| match report {
            Report::Aggregate(a) => (r + a.records.len() as u64, m + a.message_count()),
            _ => (r, m),
        })
}

#[test]
fn every_corpus_file() {
    let Some(root) = corpus::root() else { return };
    let entries = inventory(&root);
    assert!(
        entries.len() > 150,
        "inventory too small: {}",
        entries.len()
    );
    let mut checked = 0;
    for entry in entries
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "aggregate" | "forensic" | "tlsrpt"))
    {
        let path = root.join(&entry.path);
        let outcome = parse_file(&path);
        let name = entry.path.as_str();
        checked += 1;

        if let Some((_, class)) = REJECTED.iter().find(|(p, _)| *p == name) {
            assert!(
                outcome.reports.is_empty(),
                "{name}: must be rejected, got {:?}",
                outcome.reports.len()
            );
            assert!(
                outcome.rejections.iter().any(|(_, c, _)| c == class),
                "{name}: expected a {class} rejection, got {:?}",
                outcome.rejections
            );
            continue;
        }
        if let Some((_, records, messages, warning)) = RECOVERED.iter().find(|(p, ..)| *p == name) {
            assert_eq!(totals(&outcome), (*records, *messages), "{name}");
            let warned = outcome
                .reports
                .iter()
                .any(|(_, r)| r.warnings().has(warning));
            assert!(warned, "{name}: no warning starting {warning:?}");
            continue;
        }

        // Everything else parses: at least one report, and for single-report
        // files no rejection at all.
        assert!(
            !outcome.reports.is_empty(),
            "{name}: no report; rejections {:?}",
            outcome.rejections
        );
        let multi_entry = entry.container.starts_with("zip[") && entry.container != "zip[1]";
        if !multi_entry {
            assert!(
                outcome.rejections.is_empty(),
                "{name}: {:?}",
                outcome.rejections
            );
        }
        for (_, report) in &outcome.reports {
            let expected_kind = match entry.kind.as_str() {
                "aggregate" => "aggregate",
                "forensic" => "failure",
                _ => "tlsrpt",
            };
            assert_eq!(report.kind().as_str(), expected_kind, "{name}");
            assert_eq!(report.id().len(), 32, "{name}: identity");
        }
        check_record_facts(name, &entry.notes, &outcome);
        check_tls_facts(name, &entry.notes, &outcome);
    }
    assert!(checked > 160, "only {checked} corpus files checked");
}

fn check_record_facts(name: &str, notes: &str, outcome: &Outcome) {
    let facts = record_facts(notes);
    if facts.iter().all(|(entry, ..)| entry.is_empty()) {
        if let Some((_, r, m)) = facts.first() {
            assert_eq!(totals(outcome), (*r, *m), "{name}: records/messages");
        }
        return;
    }
    for (entry, records, messages) in facts.iter().filter(|(e, ..)| !e.is_empty()) {
        let found: Vec<_> = outcome
            .reports
            .iter()
            .filter(|(o, _)| o.contains(entry.as_str()))
            .collect();
        assert_eq!(found.len(), 1, "{name}: entry {entry}");
        let Report::Aggregate(a) = &found[0].1 else {
            panic!("{name}: {entry} not aggregate")
        };
        assert_eq!(
            (a.records.len() as u64, a.message_count()),
            (*records, *messages),
            "{name}: {entry}"
        );
    }
}

fn check_tls_facts(name: &str, notes: &str, outcome: &Outcome) {
    let Some(facts) = tls_facts(notes) else {
        return;
    };
    let reports: Vec<_> = outcome
        .reports
        .iter()
        .filter_map(|(_, r)| match r {
            Report::Tlsrpt(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(reports.len(), 1, "{name}");
    let t = reports[0];
    assert_eq!(t.policies.len(), facts.policies, "{name}: policies");
    let mut types: Vec<&str> = t.policies.iter().map(|p| p.policy_type.as_str()).collect();
    let mut expected: Vec<&str> = facts.types.iter().map(String::as_str).collect();
    // The inventory lists types sorted. Unknown types are kept verbatim, so
    // they compare as sent; `STS` is read as `sts` (case-insensitively).
    types.sort_unstable();
    expected.iter_mut().for_each(|t| {
        if t.eq_ignore_ascii_case("sts") {
            *t = "sts";
        }
    });
    expected.sort_unstable();
    assert_eq!(types, expected, "{name}: policy types");
    assert_eq!(
        t.session_totals(),
        (facts.ok, facts.fail),
        "{name}: session totals"
    );
    let details: usize = t.policies.iter().map(|p| p.failure_details.len()).sum();
    assert_eq!(details, facts.details, "{name}: failure details");
}

#[test]
fn failure_reports_keep_their_fields() {
    let Some(root) = corpus::root() else { return };
    let outcome =
        parse_file(&root.join("domainaware-parsedmarc/forensic/dmarc_ruf_report_linkedin.eml"));
    let Some((_, Report::Failure(f))) = outcome.reports.first() else {
        panic!("{outcome:?}")
    };
    assert_eq!(f.feedback_type.as_str(), "auth-failure");
    assert_eq!(f.user_agent.as_deref(), Some("Lua/1.0"));
    assert!(f.auth_failure.iter().any(|a| a.as_str() == "dmarc"));
    assert!(f.sample.as_deref().is_some_and(|s| s.contains("Subject:")));
    let crlf = parse_file(
        &root.join("domainaware-parsedmarc/forensic/dmarc_ruf_report_linkedin.crlf.eml"),
    );
    let Some((_, Report::Failure(g))) = crlf.reports.first() else {
        panic!("{crlf:?}")
    };
    // The CRLF copy of the same report is the same report.
    assert_eq!(f.id, g.id);
    assert_eq!(f.reported_domain, g.reported_domain);

    let exim = parse_file(
        &root.join("domainaware-parsedmarc/forensic/exim_plain_text_only_no_arf_part.eml"),
    );
    let Some((_, Report::Failure(e))) = exim.reports.first() else {
        panic!("{exim:?}")
    };
    assert_eq!(e.source_ip.as_deref(), Some("203.0.113.68"));
    assert_eq!(e.reported_domain, vec!["example.com"]);
    assert_eq!(
        e.original_subject.as_deref(),
        Some("Payment from your account.")
    );
}

#[test]
fn same_report_in_every_container_has_one_identity() {
    let Some(root) = corpus::root() else { return };
    let base = "tierpod-dmarc-report-converter/aggregate/test.xml";
    let ids: Vec<String> = ["", ".gz", ".gz.gz", ".zip"]
        .iter()
        .map(|ext| {
            let outcome = parse_file(&root.join(format!("{base}{ext}")));
            outcome.reports[0].1.id().to_owned()
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
}
