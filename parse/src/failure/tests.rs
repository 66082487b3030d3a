//! The ARF parser on fixtures written for it.

use dmarcflow_schemas::failure::{
    AlignmentMethod, AuthFailure, DeliveryResult, FeedbackType, SampleKind,
};
use mail_parser::MessageParser;

use super::*;

fn arf(feedback: &str, returned_type: &str, returned: &str) -> String {
    format!(
        "From: reporter@receiver.example\r\nTo: ruf@sender.example\r\nSubject: DMARC failure report\r\n\
Date: Tue, 5 Oct 2021 06:40:00 +0000\r\nMessage-ID: <r1@receiver.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nA message failed DMARC.\r\n\
--B\r\nContent-Type: message/feedback-report\r\n\r\n{feedback}\r\n\
--B\r\nContent-Type: {returned_type}\r\n\r\n{returned}\r\n--B--\r\n"
    )
}

const FIELDS: &str = "Feedback-Type: auth-failure\r\nUser-Agent: TestFilter/2.0\r\nVersion: 1\r\n\
Original-Mail-From: <bounce@sender.example>\r\nOriginal-Rcpt-To: <a@receiver.example>\r\n\
Original-Rcpt-To: <b@receiver.example>\r\nArrival-Date: Tue, 5 Oct 2021 06:36:51 +0200\r\n\
Reporting-MTA: dns; mx.receiver.example\r\nSource-IP: 192.0.2.7 (client.example)\r\nIncidents: 2\r\n\
Reported-Domain: sender.example\r\nAuthentication-Results: mx.receiver.example; dmarc=fail\r\n\theader.from=sender.example\r\n\
Auth-Failure: dmarc\r\nDelivery-Result: reject\r\nDKIM-Domain: sender.example\r\nDKIM-Selector: s1\r\n\
SPF-DNS: txt : sender.example : \"v=spf1 -all\"\r\nIdentity-Alignment: dkim, spf\r\nX-Custom: kept";

const HEADERS: &str =
    "From: Someone <someone@sender.example>\r\nTo: a@receiver.example\r\nSubject: Invoice\r\n\
Message-ID: <orig@sender.example>\r\n";

fn parse(raw: &str) -> dmarcflow_schemas::FailureReport<'_> {
    parse_arf(MessageParser::default().parse(raw.as_bytes()).unwrap()).unwrap()
}

#[test]
fn every_rfc6591_field() {
    let raw = arf(FIELDS, "text/rfc822-headers", HEADERS);
    let r = parse(&raw);
    assert_eq!(r.feedback_type, FeedbackType::AuthFailure);
    assert_eq!(r.user_agent.as_deref(), Some("TestFilter/2.0"));
    assert_eq!(
        r.original_mail_from.as_deref(),
        Some("bounce@sender.example")
    );
    assert_eq!(
        r.original_rcpt_to,
        vec!["a@receiver.example", "b@receiver.example"]
    );
    assert_eq!(r.arrival_timestamp, Some(1_633_408_611));
    assert_eq!(r.reporting_mta.as_deref(), Some("mx.receiver.example"));
    assert_eq!(r.source_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(r.incidents, Some(2));
    assert_eq!(
        r.authentication_results,
        vec!["mx.receiver.example; dmarc=fail header.from=sender.example"]
    );
    assert_eq!(r.auth_failure, vec![AuthFailure::Dmarc]);
    assert_eq!(r.delivery_result, Some(DeliveryResult::Reject));
    assert_eq!(r.dkim_selector.as_deref(), Some("s1"));
    assert!(r.spf_dns.as_deref().is_some_and(|s| s.contains("v=spf1")));
    assert_eq!(
        r.identity_alignment,
        vec![AlignmentMethod::Dkim, AlignmentMethod::Spf]
    );
    assert_eq!(r.other_fields.len(), 1);
    assert_eq!(r.sample_kind, SampleKind::Headers);
    assert_eq!(r.original_subject.as_deref(), Some("Invoice"));
    assert_eq!(r.report_subject.as_deref(), Some("DMARC failure report"));
    assert_eq!(
        r.description.as_deref().map(str::trim),
        Some("A message failed DMARC.")
    );
    assert_eq!(r.id.len(), 32);
}

#[test]
fn returned_message_and_misspelled_headers_type() {
    let message = format!("{HEADERS}\r\nBody of the original.\r\n");
    let raw = arf(FIELDS, "message/rfc822", &message);
    let r = parse(&raw);
    assert_eq!(r.sample_kind, SampleKind::Message);
    assert!(r
        .sample
        .as_deref()
        .is_some_and(|s| s.contains("Body of the original.")));
    assert_eq!(
        r.original_message_id.as_deref(),
        Some("<orig@sender.example>")
    );
    let raw = arf(FIELDS, "text/rfc822-header", HEADERS);
    let r = parse(&raw);
    assert_eq!(r.sample_kind, SampleKind::Headers);
    assert_eq!(
        r.original_from.as_deref(),
        Some("Someone <someone@sender.example>")
    );
}

#[test]
fn non_dmarc_arf_is_labelled() {
    let raw = arf(
        "Feedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1",
        "text/rfc822-headers",
        HEADERS,
    );
    let r = parse(&raw);
    assert_eq!(r.feedback_type, FeedbackType::Abuse);
    assert!(!r.is_auth_failure());
    let items = crate::Parser::default().extract(raw.as_bytes(), "t");
    assert!(matches!(&items[..], [Err(rej)] if rej.error.class() == "not_dmarc"));
}

#[test]
fn body_is_not_part_of_the_identity() {
    let a = parse(&arf(
        FIELDS,
        "message/rfc822",
        &format!("{HEADERS}\r\nbody one\r\n"),
    ))
    .id;
    let b = parse(&arf(
        FIELDS,
        "message/rfc822",
        &format!("{HEADERS}\r\nredacted\r\n"),
    ))
    .id;
    assert_eq!(a, b);
    let other = FIELDS.replace("192.0.2.7", "192.0.2.8");
    assert_ne!(a, parse(&arf(&other, "message/rfc822", HEADERS)).id);
}
