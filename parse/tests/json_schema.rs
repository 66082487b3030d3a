//! Every report the corpus yields validates against `schemas/json/`: the
//! contract and the Rust types cannot drift apart unnoticed.

mod corpus;

use std::path::Path;

use serde_json::Value;

fn schema(kind: &str) -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../schemas/json/{kind}.schema.json"));
    serde_json::from_slice(&std::fs::read(&path).expect("schema file")).expect("schema JSON")
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// A validator for the keywords these schemas use.
fn validate(s: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    match &s["type"] {
        Value::String(t) if !type_ok(t, v) => errors.push(format!("{at}: not {t}: {v}")),
        Value::Array(ts) if !ts.iter().any(|t| t.as_str().is_some_and(|t| type_ok(t, v))) => {
            errors.push(format!("{at}: none of {ts:?}: {v}"))
        }
        _ => {}
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errors.push(format!("{at}: {v} != const {c}"));
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.contains(v) {
            errors.push(format!("{at}: {v} not in enum"));
        }
    }
    if let (Some(Value::String(p)), Some(text)) = (s.get("pattern"), v.as_str()) {
        // The two patterns the schemas use: the identity, a country code.
        let ok = match p.as_str() {
            "^[0-9a-f]{32}$" => {
                text.len() == 32
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            }
            "^[A-Z]{2}$" => text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase()),
            other => panic!("the test does not know the pattern {other}"),
        };
        if !ok {
            errors.push(format!("{at}: {text} does not match {p}"));
        }
    }

    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_i64), v.as_i64()) {
        if n < min {
            errors.push(format!("{at}: {n} < {min}"));
        }
    }
    if let (Some(max), Some(n)) = (s.get("maximum").and_then(Value::as_i64), v.as_i64()) {
        if n > max {
            errors.push(format!("{at}: {n} > {max}"));
        }
    }
    if let Value::Object(map) = v {
        let props = s["properties"].as_object();
        for req in s["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(req) {
                errors.push(format!("{at}: missing {req}"));
            }
        }
        for (k, child) in map {
            match props.and_then(|p| p.get(k)) {
                Some(cs) => validate(cs, child, &format!("{at}.{k}"), errors),
                None if s["additionalProperties"] == Value::Bool(false) => {
                    errors.push(format!("{at}: unexpected {k}"))
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(is)) = (v, s.get("items")) {
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                errors.push(format!("{at}: fewer than {min} items"));
            }
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                errors.push(format!("{at}: more than {max} items"));
            }
        }
        for (i, item) in items.iter().enumerate() {
            validate(is, item, &format!("{at}[{i}]"), errors);
        }
    }
}

#[test]
fn every_corpus_report_matches_its_schema() {
    let Some(root) = corpus::root() else { return };
    let schemas: Vec<(String, Value)> = ["aggregate", "failure", "tlsrpt"]
        .iter()
        .map(|k| (k.to_string(), schema(k)))
        .collect();
    let mut seen = std::collections::HashMap::new();
    for entry in corpus::inventory(&root)
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "aggregate" | "forensic" | "tlsrpt"))
    {
        for (_, report) in corpus::parse_file(&root.join(&entry.path)).reports {
            let value = serde_json::to_value(&report).expect("serialise");
            let kind = value["kind"].as_str().expect("kind").to_owned();
            let (_, s) = schemas
                .iter()
                .find(|(k, _)| *k == kind)
                .expect("a schema per kind");
            let mut errors = Vec::new();
            validate(s, &value, &entry.path, &mut errors);
            assert!(errors.is_empty(), "{errors:#?}");
            *seen.entry(kind).or_insert(0) += 1;
        }
    }
    for kind in ["aggregate", "failure", "tlsrpt"] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 3,
            "too few {kind} reports: {seen:?}"
        );
    }
}

#[test]
fn validator_catches_drift() {
    let s = schema("tlsrpt");
    let mut errors = Vec::new();
    validate(
        &s,
        &serde_json::json!({"kind": "tlsrpt", "surprise": 1}),
        "x",
        &mut errors,
    );
    assert!(errors.iter().any(|e| e.contains("unexpected surprise")));
    assert!(errors.iter().any(|e| e.contains("missing id")));
}

/// Enriched output (`source` on records and failure reports, both ends of
/// TLS-RPT failures) matches too;
/// a source missing a field, or with one too many, does not.
#[test]
fn enriched_reports_match_their_schema() {
    use dmarcflow_schemas::{Report, Source};
    let Some(root) = corpus::root() else { return };
    let source = Source {
        ip: "192.0.2.10".into(),
        ptr: Some("mail.sender.example".into()),
        ptr_confirmed: true,
        base_domain: Some("sender.example".into()),
        name: Some("Example Sender".into()),
        kind: Some("esp".into()),
        asn: Some(64500),
        as_name: Some("Example Mail".into()),
        as_domain: None,
        country: Some("DE".into()),
        lookup_failed: false,
        identified_by: Some("ptr".into()),
    };
    let (mut aggregate, mut failure, mut tls) = (0, 0, 0);
    for entry in corpus::inventory(&root)
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "aggregate" | "forensic" | "tlsrpt"))
    {
        for (_, mut report) in corpus::parse_file(&root.join(&entry.path)).reports {
            match &mut report {
                Report::Aggregate(r) if !r.records.is_empty() => {
                    r.records[0].source = Some(Box::new(source.clone()));
                    aggregate += 1;
                }
                Report::Failure(r) => {
                    r.source = Some(Box::new(Source {
                        lookup_failed: true,
                        ..Source::default()
                    }));
                    failure += 1;
                }
                Report::Tlsrpt(r) => {
                    let Some(detail) = r
                        .policies
                        .iter_mut()
                        .flat_map(|p| &mut p.failure_details)
                        .next()
                    else {
                        continue;
                    };
                    detail.sending_mta_source = Some(Box::new(source.clone()));
                    detail.receiving_source = Some(Box::new(Source::default()));
                    tls += 1;
                }
                _ => continue,
            }
            let value = serde_json::to_value(&report).expect("serialise");
            let s = schema(value["kind"].as_str().expect("kind"));
            let mut errors = Vec::new();
            validate(&s, &value, &entry.path, &mut errors);
            assert!(errors.is_empty(), "{errors:#?}");
        }
    }
    assert!(
        aggregate > 3 && failure > 3 && tls > 3,
        "{aggregate} {failure} {tls}"
    );
    let s = schema("aggregate");
    let record = &s["properties"]["records"]["items"];
    let mut errors = Vec::new();
    validate(
        &record["properties"]["source"],
        &serde_json::json!({"ip": "192.0.2.1", "surprise": 1}),
        "x",
        &mut errors,
    );
    assert!(
        errors.iter().any(|e| e.contains("unexpected surprise")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("missing ptr")),
        "{errors:?}"
    );
}
