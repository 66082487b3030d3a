//! RFC 8460 JSON to the normalised [`TlsReport`].

use std::borrow::Cow;

use dmarcflow_schemas::storable_time::unstorable_time;
use dmarcflow_schemas::tlsrpt::{FailureDetail, ResultType, TlsPolicy};
use dmarcflow_schemas::{Match, TextEnum, TlsReport, Warnings};

use super::raw::{Count, OneOrMany, RawFailure, RawPolicyEntry, RawReport, Text};
use super::time::rfc3339_to_epoch;
use crate::ParseError;

/// Parses a TLS report; strings borrow from `json` unless they were escaped.
pub fn parse_tlsrpt(json: &[u8]) -> Result<TlsReport<'_>, ParseError> {
    parse_tlsrpt_with(json, Vec::new())
}

/// As [`parse_tlsrpt`], with warnings from earlier stages.
pub fn parse_tlsrpt_with(json: &[u8], warnings: Vec<String>) -> Result<TlsReport<'_>, ParseError> {
    let json = crate::detect::trim_start(json);
    let raw: RawReport<'_> =
        serde_json::from_slice(json).map_err(|e| ParseError::MalformedJson(e.to_string()))?;
    let mut report = TlsReport::empty();
    let w = &mut report.warnings;
    for warning in warnings {
        w.push(warning);
    }
    let (Some(Text(report_id)), Some(policies)) = (raw.report_id, raw.policies) else {
        return Err(ParseError::NotAReport(
            "JSON without report-id and policies is not an RFC 8460 report".into(),
        ));
    };
    report.report_id = report_id;
    report.organization_name = required(cow(raw.organization_name), "organization-name", w);
    report.contact_info = cow(raw.contact_info).filter(|c| !c.is_empty());
    if report.contact_info.is_none() {
        w.push("report without contact-info");
    }
    let range = raw.date_range;
    let (start, end) = range.map_or((None, None), |r| (cow(r.start), cow(r.end)));
    report.start_datetime = required(start, "date-range.start-datetime", w);
    report.end_datetime = required(end, "date-range.end-datetime", w);
    report.begin = epoch(&report.start_datetime, w);
    report.end = epoch(&report.end_datetime, w);
    for (field, seconds) in [
        ("start-datetime", report.begin),
        ("end-datetime", report.end),
    ] {
        if let Some(warning) = unstorable_time(field, seconds) {
            w.push(warning);
        }
    }
    report.policies = policies.into_iter().map(|p| policy(p, w)).collect();
    report.id = report.compute_id();
    Ok(report)
}

fn required<'a>(value: Option<Cow<'a, str>>, field: &str, w: &mut Warnings) -> Cow<'a, str> {
    match value {
        Some(v) if !v.is_empty() => v,
        _ => {
            w.push(format!("report without {field}"));
            Cow::Borrowed("")
        }
    }
}

fn epoch(text: &str, w: &mut Warnings) -> i64 {
    rfc3339_to_epoch(text).unwrap_or_else(|| {
        if !text.is_empty() {
            w.push(format!("unreadable date-time {text:?}"));
        }
        0
    })
}

fn lenient<'a, T: TextEnum<'a>>(raw: Cow<'a, str>, field: &str, w: &mut Warnings) -> T {
    let shown = raw.clone();
    let (value, how) = T::read(raw);
    match how {
        Match::Exact => {}
        Match::Folded | Match::Alias => w.push(format!(
            "non-canonical {field} {shown:?} read case-insensitively"
        )),
        Match::Unknown => w.push(format!("unknown {field} {shown:?} kept verbatim")),
    }
    value
}

fn count(value: Option<Count<'_>>, field: &str, w: &mut Warnings) -> u64 {
    match value {
        Some(Count::Number(n)) => n,
        Some(Count::Float(f)) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => {
            w.push(format!("{field} written as a fraction"));
            f as u64
        }
        Some(Count::Text(Text(t))) => match t.trim().parse::<u64>() {
            Ok(n) => {
                w.push(format!("{field} written as a string"));
                n
            }
            Err(_) => {
                w.push(format!("unreadable {field} {t:?}, taken as 0"));
                0
            }
        },
        Some(Count::Float(_)) => {
            w.push(format!("unreadable {field}, taken as 0"));
            0
        }
        None => {
            w.push(format!("missing {field}, taken as 0"));
            0
        }
    }
}

fn list<'a>(value: Option<OneOrMany<'a>>, field: &str, w: &mut Warnings) -> Vec<Cow<'a, str>> {
    match value {
        None => Vec::new(),
        Some(OneOrMany::One(Text(s))) => {
            w.push(format!("{field} is a string, not a list"));
            Some(s).filter(|s| !s.is_empty()).into_iter().collect()
        }
        Some(OneOrMany::Many(items)) => items.into_iter().flatten().map(|t| t.0).collect(),
    }
}

fn policy<'a>(entry: RawPolicyEntry<'a>, w: &mut Warnings) -> TlsPolicy<'a> {
    let (policy_type, policy_string, policy_domain, mx_host) = match entry.policy {
        Some(p) => (
            cow(p.policy_type),
            p.policy_string,
            cow(p.policy_domain),
            p.mx_host,
        ),
        None => {
            w.push("policy entry without policy");
            (None, None, None, None)
        }
    };
    let (ok, failed) = match entry.summary {
        Some(s) => (s.successful, s.failure),
        None => {
            w.push("policy entry without summary");
            (None, None)
        }
    };
    TlsPolicy {
        policy_type: lenient(policy_type.unwrap_or(Cow::Borrowed("")), "policy-type", w),
        policy_string: list(policy_string, "policy-string", w),
        policy_domain: required(policy_domain, "policy-domain", w),
        mx_host: list(mx_host, "mx-host", w),
        total_successful_session_count: count(ok, "total-successful-session-count", w),
        total_failure_session_count: count(failed, "total-failure-session-count", w),
        failure_details: entry
            .failure_details
            .unwrap_or_default()
            .into_iter()
            .map(|f| failure(f, w))
            .collect(),
    }
}

fn failure<'a>(f: RawFailure<'a>, w: &mut Warnings) -> FailureDetail<'a> {
    let result_type: ResultType<'a> = lenient(
        cow(f.result_type).unwrap_or(Cow::Borrowed("")),
        "result-type",
        w,
    );
    FailureDetail {
        result_type,
        sending_mta_ip: cow(f.sending_mta_ip).filter(|s| !s.is_empty()),
        receiving_mx_hostname: cow(f.receiving_mx_hostname).filter(|s| !s.is_empty()),
        receiving_mx_helo: cow(f.receiving_mx_helo).filter(|s| !s.is_empty()),
        receiving_ip: cow(f.receiving_ip).filter(|s| !s.is_empty()),
        failed_session_count: count(f.failed_session_count, "failed-session-count", w),
        additional_information: cow(f.additional_information).filter(|s| !s.is_empty()),
        failure_reason_code: cow(f.failure_reason_code).filter(|s| !s.is_empty()),
        sending_mta_source: None,
        receiving_source: None,
    }
}

fn cow(text: Option<Text<'_>>) -> Option<Cow<'_, str>> {
    text.map(|t| t.0)
}
