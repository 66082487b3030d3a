//! The TLS-RPT tolerances, on fixtures written for them.

use std::borrow::Cow;

use dmarcflow_schemas::tlsrpt::{PolicyType, ResultType};

use super::*;

const RFC_STYLE: &str = r#"{
  "organization-name": "Receiver Inc.",
  "date-range": {"start-datetime": "2024-05-01T00:00:00Z", "end-datetime": "2024-05-01T23:59:59Z"},
  "contact-info": "tls@receiver.example",
  "report-id": "2024-05-01T00:00:00Z_sender.example",
  "policies": [{
    "policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: enforce"],
               "policy-domain": "sender.example", "mx-host": ["mx1.sender.example", "*.sender.example"]},
    "summary": {"total-successful-session-count": 120, "total-failure-session-count": 4},
    "failure-details": [
      {"result-type": "certificate-expired", "sending-mta-ip": "2001:db8::25",
       "receiving-mx-hostname": "mx1.sender.example", "failed-session-count": 3},
      {"result-type": "dane-required", "receiving-ip": "192.0.2.25", "receiving-mx-helo": "mx1",
       "failed-session-count": 1, "additional-information": "https://r.example/1", "failure-reason-code": "X"}
    ]
  }]
}"#;

#[test]
fn rfc_shape() {
    let r = parse_tlsrpt(RFC_STYLE.as_bytes()).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.organization_name, "Receiver Inc.");
    assert!(matches!(r.organization_name, Cow::Borrowed(_)));
    assert_eq!(r.begin, 1_714_521_600);
    assert_eq!(r.end, 1_714_607_999);
    let p = &r.policies[0];
    assert_eq!(p.policy_type, PolicyType::Sts);
    assert_eq!(p.mx_host.len(), 2);
    assert_eq!(p.total_successful_session_count, 120);
    assert_eq!(
        p.failure_details[0].result_type,
        ResultType::CertificateExpired
    );
    assert_eq!(p.failure_details[1].result_type, ResultType::DaneRequired);
    assert_eq!(
        p.failure_details[1].receiving_mx_helo.as_deref(),
        Some("mx1")
    );
    assert_eq!(r.session_totals(), (120, 4));
}

#[test]
fn what_microsoft_and_google_send() {
    // No sending-mta-ip, null contact-info, mx-host as a string, counts as
    // strings, an upper-case policy type and an unknown result type.
    let json = r#"{"organization-name":"Big Mail","date-range":{"start-datetime":"2024-05-01T00:00:00Z",
      "end-datetime":"2024-05-02T00:00:00Z"},"contact-info":null,"report-id":"abc",
      "policies":[{"policy":{"policy-type":"STS","policy-string":null,"policy-domain":"d.example",
      "mx-host":"mx.d.example"},"summary":{"total-successful-session-count":"7","total-failure-session-count":2.0},
      "failure-details":[{"result-type":"tls-version-too-old","failed-session-count":"2"}]}]}"#;
    let r = parse_tlsrpt(json.as_bytes()).unwrap();
    assert_eq!(r.contact_info, None);
    let p = &r.policies[0];
    assert_eq!(p.policy_type, PolicyType::Sts);
    assert_eq!(p.mx_host, vec!["mx.d.example"]);
    assert_eq!(p.total_successful_session_count, 7);
    assert_eq!(p.total_failure_session_count, 2);
    assert_eq!(
        p.failure_details[0].result_type,
        ResultType::Other("tls-version-too-old".into())
    );
    assert_eq!(p.failure_details[0].sending_mta_ip, None);
    assert_eq!(p.failure_details[0].failed_session_count, 2);
    for w in [
        "report without contact-info",
        "mx-host is a string",
        "written as a string",
        "unknown result-type",
    ] {
        assert!(
            r.warnings.iter().any(|x| x.contains(w)),
            "missing {w}: {:?}",
            r.warnings
        );
    }
}

#[test]
fn identity_is_org_and_report_id() {
    let a = parse_tlsrpt(RFC_STYLE.as_bytes()).unwrap();
    let reformatted: String = RFC_STYLE.split_whitespace().collect::<Vec<_>>().join(" ");
    let b = parse_tlsrpt(reformatted.as_bytes()).unwrap();
    assert_eq!(a.id, b.id);
    let other = RFC_STYLE.replace("Receiver Inc.", "Other");
    let c = parse_tlsrpt(other.as_bytes()).unwrap();
    assert_ne!(a.id, c.id);
}

#[test]
fn errors_are_typed() {
    assert!(matches!(
        parse_tlsrpt(b"{\"policies\": [}"),
        Err(crate::ParseError::MalformedJson(_))
    ));
    assert!(matches!(
        parse_tlsrpt(b"{\"hello\": 1}"),
        Err(crate::ParseError::NotAReport(_))
    ));
    assert!(matches!(
        parse_tlsrpt(b"[1,2]"),
        Err(crate::ParseError::MalformedJson(_))
    ));
}
