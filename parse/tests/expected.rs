//! Field-by-field agreement with the `expected/` files of the corpus: the
//! mail-auth crate's parse of its own samples (aggregate, ARF, TLS-RPT) and
//! mail-tls-rpt's normalised output.
//!
//! Justified differences, each handled below where it arises:
//! - mail-auth writes enums in PascalCase with `Unspecified` for absent; we
//!   write the wire value and `null` for absent.
//! - mail-auth keeps `<>` around ARF addresses and the line folding of
//!   `Authentication-Results`; we strip the brackets and unfold.
//! - mail-auth maps `testing` to a bool; we keep `y`/`n` (an unknown value
//!   would otherwise be lost).
//! - mail-auth drops unknown values; we keep them verbatim.
//! - mail-auth follows RFC 9990's override reasons only and reads RFC 7489's
//!   `sampled_out` as `other`; we keep `sampled_out` (see `reason_type`).

mod corpus;

use std::path::Path;

use corpus::parse_file;
use dmarcflow_schemas::Report;
use serde_json::Value;

fn load(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("reading expected")).expect("expected JSON")
}

/// mail-auth's PascalCase enum name as the wire value; `Unspecified` is absent.
fn wire(v: &Value) -> Value {
    let Some(s) = v.as_str() else {
        return v.clone();
    };
    let mapped = match s {
        "Unspecified" => return Value::Null,
        "MailFrom" => "mfrom".to_owned(),
        "Relaxed" => "r".to_owned(),
        "Strict" => "s".to_owned(),
        "TempError" => "temperror".to_owned(),
        "PermError" => "permerror".to_owned(),
        "SoftFail" => "softfail".to_owned(),
        "BodyHash" => "bodyhash".to_owned(),
        "AuthFailure" => "auth-failure".to_owned(),
        "NotSpam" => "not-spam".to_owned(),
        other => {
            let mut out = String::new();
            for (i, c) in other.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            }
            out
        }
    };
    Value::String(mapped)
}

fn text(v: &Value) -> Value {
    match v.as_str() {
        Some("") | None => Value::Null,
        Some(s) => Value::String(s.to_owned()),
    }
}

fn report_of(root: &Path, rel: &str) -> Report<'static> {
    let outcome = parse_file(&root.join(rel));
    assert_eq!(outcome.reports.len(), 1, "{rel}: {:?}", outcome.rejections);
    outcome
        .reports
        .into_iter()
        .next()
        .map(|(_, r)| r)
        .expect("one report")
}

#[test]
fn mail_auth_aggregate() {
    let Some(root) = corpus::root() else { return };
    let inputs = [
        ("001", "001.xml"),
        ("002", "002.xml"),
        ("003", "003.xml"),
        ("004", "004.xml"),
        ("005", "005.xml"),
        ("100", "100.eml"),
        ("101", "101.eml"),
        ("102", "102.eml"),
        ("103", "103.eml"),
        ("104", "104.eml"),
    ];
    for (n, input) in inputs {
        let exp = load(&root.join(format!("stalwartlabs-mail-auth/expected/{n}.json")));
        let Report::Aggregate(ours) =
            report_of(&root, &format!("stalwartlabs-mail-auth/aggregate/{input}"))
        else {
            panic!("{input}: not aggregate")
        };
        let ours = serde_json::to_value(&ours).expect("serialise");
        let ctx = |f: &str| format!("{input}: {f}");

        let em = &exp["report_metadata"];
        let om = &ours["metadata"];
        for f in ["org_name", "email", "report_id"] {
            assert_eq!(om[f], em[f], "{}", ctx(f));
        }
        assert_eq!(
            text(&om["extra_contact_info"]),
            text(&em["extra_contact_info"]),
            "{}",
            ctx("extra_contact_info")
        );
        assert_eq!(om["begin"], em["date_range"]["begin"], "{}", ctx("begin"));
        assert_eq!(om["end"], em["date_range"]["end"], "{}", ctx("end"));

        let ep = &exp["policy_published"];
        let op = &ours["policy_published"];
        assert_eq!(op["domain"], ep["domain"], "{}", ctx("domain"));
        for f in ["adkim", "aspf", "p", "sp"] {
            assert_eq!(op[f], wire(&ep[f]), "{}", ctx(f));
        }
        assert_eq!(text(&op["fo"]), text(&ep["fo"]), "{}", ctx("fo"));
        let testing = op["testing"].as_str() == Some("y");
        assert_eq!(Value::Bool(testing), ep["testing"], "{}", ctx("testing"));

        let er = exp["record"].as_array().expect("records");
        let or = ours["records"].as_array().expect("records");
        assert_eq!(or.len(), er.len(), "{}", ctx("record count"));
        for (o, e) in or.iter().zip(er) {
            let row = &e["row"];
            assert_eq!(o["source_ip"], row["source_ip"], "{}", ctx("source_ip"));
            assert_eq!(o["count"], row["count"], "{}", ctx("count"));
            let pe = &row["policy_evaluated"];
            for f in ["disposition", "dkim", "spf"] {
                assert_eq!(o[f], wire(&pe[f]), "{}", ctx(f));
            }
            let reasons: Vec<(Value, Value)> = pe["reason"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| (wire(&r["type_"]), text(&r["comment"])))
                .collect();
            // RFC 7489's `sampled_out`, which mail-auth folds into `other`.
            let reason_type = |t: &Value| {
                if t == "sampled_out" {
                    Value::from("other")
                } else {
                    t.clone()
                }
            };
            let ours_reasons: Vec<(Value, Value)> = o["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| (reason_type(&r["type"]), text(&r["comment"])))
                .collect();
            assert_eq!(ours_reasons, reasons, "{}", ctx("reasons"));
            let id = &e["identifiers"];
            for f in ["header_from", "envelope_from", "envelope_to"] {
                assert_eq!(text(&o[f]), text(&id[f]), "{}", ctx(f));
            }
            let dkim = |v: &Value, domain: &str, sel: &str, res: &str, map: bool| -> Vec<Value> {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        let r = if map { wire(&d[res]) } else { d[res].clone() };
                        serde_json::json!([d[domain], text(&d[sel]), r, text(&d["human_result"])])
                    })
                    .collect()
            };
            assert_eq!(
                dkim(&o["dkim_results"], "domain", "selector", "result", false),
                dkim(
                    &e["auth_results"]["dkim"],
                    "domain",
                    "selector",
                    "result",
                    true
                ),
                "{}",
                ctx("dkim auth")
            );
            let spf = |v: &Value, map: bool| -> Vec<Value> {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| {
                        let (scope, r) = if map {
                            (wire(&d["scope"]), wire(&d["result"]))
                        } else {
                            (d["scope"].clone(), d["result"].clone())
                        };
                        serde_json::json!([d["domain"], scope, r, text(&d["human_result"])])
                    })
                    .collect()
            };
            assert_eq!(
                spf(&o["spf_results"], false),
                spf(&e["auth_results"]["spf"], true),
                "{}",
                ctx("spf auth")
            );
        }
    }
}

/// Unfolded, CR-free text for comparing header values and samples.
fn flat(v: &Value) -> Value {
    match v.as_str() {
        None | Some("") => Value::Null,
        Some(s) => Value::String(s.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

fn unbracket(v: &Value) -> Value {
    match v.as_str() {
        None => Value::Null,
        Some(s) => Value::String(
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned(),
        ),
    }
}

#[test]
fn mail_auth_arf() {
    let Some(root) = corpus::root() else { return };
    for n in ["001", "002", "003", "004", "005"] {
        let exp = load(&root.join(format!("stalwartlabs-mail-auth/expected/arf__{n}.json")));
        let raw = std::fs::read(root.join(format!("stalwartlabs-mail-auth/forensic/{n}.eml")))
            .expect("eml");
        let message = mail_parser::MessageParser::default()
            .parse(&raw)
            .expect("email");
        // The ARF parser directly: abuse reports parse, the pipeline then labels them not-DMARC.
        let ours = dmarcflow_parse::failure::parse_arf(message).expect("ARF");
        let o = serde_json::to_value(&ours).expect("serialise");
        let ctx = |f: &str| format!("arf {n}: {f}");
        assert_eq!(
            o["feedback_type"],
            wire(&exp["feedback_type"]),
            "{}",
            ctx("feedback_type")
        );
        for f in [
            "user_agent",
            "source_ip",
            "reporting_mta",
            "original_envelope_id",
            "dkim_domain",
            "dkim_identity",
            "dkim_selector",
            "dkim_selector_dns",
            "dkim_adsp_dns",
            "spf_dns",
        ] {
            assert_eq!(text(&o[f]), text(&exp[f]), "{}", ctx(f));
        }
        // Base64 fields: mail-auth keeps the folding, we drop it.
        for f in ["dkim_canonicalized_header", "dkim_canonicalized_body"] {
            let nows = |v: &Value| v.as_str().map(|s| s.split_whitespace().collect::<String>());
            assert_eq!(nows(&o[f]), nows(&exp[f]), "{}", ctx(f));
        }
        assert_eq!(
            unbracket(&o["original_mail_from"]),
            unbracket(&exp["original_mail_from"]),
            "{}",
            ctx("mail from")
        );
        let rcpt = o["original_rcpt_to"]
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or(Value::Null);
        assert_eq!(
            unbracket(&rcpt),
            unbracket(&exp["original_rcpt_to"]),
            "{}",
            ctx("rcpt to")
        );
        assert_eq!(
            o["reported_domain"],
            exp["reported_domain"],
            "{}",
            ctx("reported_domain")
        );
        assert_eq!(
            o["reported_uri"],
            exp["reported_uri"],
            "{}",
            ctx("reported_uri")
        );
        let ar =
            |v: &Value| -> Vec<Value> { v.as_array().into_iter().flatten().map(flat).collect() };
        assert_eq!(
            ar(&o["authentication_results"]),
            ar(&exp["authentication_results"]),
            "{}",
            ctx("auth results")
        );
        assert_eq!(
            o["incidents"].as_u64().unwrap_or(1),
            exp["incidents"].as_u64().unwrap_or(1),
            "{}",
            ctx("incidents")
        );
        assert_eq!(
            o["version"].as_str().map(str::to_owned),
            exp["version"].as_u64().map(|v| v.to_string()),
            "{}",
            ctx("version")
        );
        assert_eq!(
            o["source_port"].as_u64().unwrap_or(0),
            exp["source_port"].as_u64().unwrap_or(0),
            "{}",
            ctx("source_port")
        );
        assert_eq!(
            o["arrival_timestamp"],
            exp["arrival_date"],
            "{}",
            ctx("arrival_date")
        );
        let first = |v: &Value| {
            v.as_array()
                .and_then(|a| a.first())
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert_eq!(
            first(&o["auth_failure"]),
            wire(&exp["auth_failure"]),
            "{}",
            ctx("auth_failure")
        );
        assert_eq!(
            o["delivery_result"],
            wire(&exp["delivery_result"]),
            "{}",
            ctx("delivery_result")
        );
        assert_eq!(
            first(&o["identity_alignment"]),
            wire(&exp["identity_alignment"]),
            "{}",
            ctx("identity_alignment")
        );
        if !exp["headers"].is_null() {
            assert_eq!(o["sample_kind"], "headers", "{}", ctx("sample kind"));
            assert_eq!(
                flat(&o["sample"]),
                flat(&exp["headers"]),
                "{}",
                ctx("headers")
            );
        }
    }
}

fn tls_value(report: &Report<'_>) -> Value {
    let Report::Tlsrpt(t) = report else {
        panic!("not a TLS report")
    };
    serde_json::to_value(t).expect("serialise")
}

/// Compares a normalised TLS report with an RFC 8460 document.
fn assert_tls_matches(ours: &Value, exp: &Value, ctx: &str) {
    assert_eq!(ours["organization_name"], exp["organization-name"], "{ctx}");
    assert_eq!(ours["report_id"], exp["report-id"], "{ctx}");
    assert_eq!(
        text(&ours["contact_info"]),
        text(&exp["contact-info"]),
        "{ctx}"
    );
    assert_eq!(
        ours["start_datetime"], exp["date-range"]["start-datetime"],
        "{ctx}"
    );
    assert_eq!(
        ours["end_datetime"], exp["date-range"]["end-datetime"],
        "{ctx}"
    );
    let op = ours["policies"].as_array().expect("policies");
    let ep = exp["policies"].as_array().expect("policies");
    assert_eq!(op.len(), ep.len(), "{ctx}");
    for (o, e) in op.iter().zip(ep) {
        let pol = &e["policy"];
        assert_eq!(o["policy_type"], pol["policy-type"], "{ctx}");
        assert_eq!(o["policy_domain"], pol["policy-domain"], "{ctx}");
        assert_eq!(o["policy_string"], pol["policy-string"], "{ctx}");
        let mx: Vec<Value> = match &pol["mx-host"] {
            Value::String(s) if s.is_empty() => vec![],
            Value::String(s) => vec![Value::String(s.clone())],
            Value::Array(a) => a.clone(),
            _ => vec![],
        };
        assert_eq!(o["mx_host"], Value::Array(mx), "{ctx}");
        let s = &e["summary"];
        assert_eq!(
            o["total_successful_session_count"], s["total-successful-session-count"],
            "{ctx}"
        );
        assert_eq!(
            o["total_failure_session_count"], s["total-failure-session-count"],
            "{ctx}"
        );
        let of = o["failure_details"].as_array().expect("details");
        let ef: Vec<Value> = e["failure-details"].as_array().cloned().unwrap_or_default();
        assert_eq!(of.len(), ef.len(), "{ctx}");
        for (o, e) in of.iter().zip(&ef) {
            assert_eq!(o["result_type"], e["result-type"], "{ctx}");
            assert_eq!(
                o["failed_session_count"], e["failed-session-count"],
                "{ctx}"
            );
            for (ours_key, key) in [
                ("sending_mta_ip", "sending-mta-ip"),
                ("receiving_mx_hostname", "receiving-mx-hostname"),
                ("receiving_ip", "receiving-ip"),
                ("additional_information", "additional-information"),
                ("failure_reason_code", "failure-reason-code"),
            ] {
                assert_eq!(text(&o[ours_key]), text(&e[key]), "{ctx}: {key}");
            }
        }
    }
}

#[test]
fn mail_auth_tlsrpt() {
    let Some(root) = corpus::root() else { return };
    for n in ["rpt01", "rpt02"] {
        let exp = load(&root.join(format!("stalwartlabs-mail-auth/expected/{n}.json")));
        for input in [format!("{n}.eml"), format!("{n}.json")] {
            let ours = tls_value(&report_of(
                &root,
                &format!("stalwartlabs-mail-auth/tlsrpt/{input}"),
            ));
            assert_tls_matches(&ours, &exp, &input);
        }
    }
}

#[test]
fn mail_tls_rpt_expected() {
    let Some(root) = corpus::root() else { return };
    let exp = load(&root.join("marcbradshaw-mail-tls-rpt/expected/t__data__expected.json"));
    for input in ["email.eml", "report.json", "report.json.gz.b64"] {
        let ours = tls_value(&report_of(
            &root,
            &format!("marcbradshaw-mail-tls-rpt/tlsrpt/{input}"),
        ));
        assert_tls_matches(&ours, &exp, input);
    }
}
