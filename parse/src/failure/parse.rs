//! An ARF email (RFC 5965, RFC 6591) to the normalised [`FailureReport`].

use std::borrow::Cow;

use dmarcflow_schemas::failure::{AlignmentMethod, FeedbackType, SampleKind};
use dmarcflow_schemas::storable_time::unstorable_time;
use dmarcflow_schemas::{FailureReport, Match, TextEnum};
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::fields::{first, header_fields, strip_angles};
use crate::ParseError;

/// What a MIME part of a report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    FeedbackReport,
    ReturnedMessage,
    ReturnedHeaders,
    Text,
    Other,
}

fn role(part: &MessagePart<'_>) -> Role {
    let Some(ct) = part.content_type() else {
        return if matches!(part.body, PartType::Text(_)) {
            Role::Text
        } else {
            Role::Other
        };
    };
    let (ty, sub) = (ct.ctype(), ct.subtype().unwrap_or(""));
    let is = |t: &str, s: &str| ty.eq_ignore_ascii_case(t) && sub.eq_ignore_ascii_case(s);
    if is("message", "feedback-report") {
        Role::FeedbackReport
    } else if is("message", "rfc822") || is("message", "global") {
        Role::ReturnedMessage
    } else if is("text", "rfc822-headers")
        // `text/rfc822-header` is a real misspelling in the wild.
        || is("text", "rfc822-header")
        || is("message", "rfc822-headers")
    {
        Role::ReturnedHeaders
    } else if is("text", "plain") {
        Role::Text
    } else {
        Role::Other
    }
}

/// Whether a parsed email carries an ARF feedback-report part.
pub fn has_feedback_report(message: &Message<'_>) -> bool {
    message
        .parts
        .iter()
        .any(|p| role(p) == Role::FeedbackReport)
}

/// Parses a failure report from its whole email. Abuse, opt-out and other
/// non-authentication ARF parse too (see [`FailureReport::is_auth_failure`]);
/// an email with neither an ARF part nor a DMARC forensic text is an error.
pub fn parse_arf(mut message: Message<'_>) -> Result<FailureReport<'_>, ParseError> {
    let report_subject = message
        .header_raw("Subject")
        .map(|s| Cow::Owned(s.trim().to_owned()));
    let report_message_id = message.message_id().map(|s| Cow::Owned(s.to_owned()));
    let report_date = message.date().map(|d| d.to_timestamp());
    let raw = std::mem::take(&mut message.raw_message);
    let roles: Vec<Role> = message.parts.iter().map(role).collect();
    let mut bodies: Vec<PartType<'_>> = message
        .parts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.body))
        .collect();

    let mut report = match roles.iter().position(|r| *r == Role::FeedbackReport) {
        Some(i) => {
            let text = bytes_to_text(part_bytes(std::mem::take(&mut bodies[i])));
            from_feedback_fields(text)
        }
        None => from_plain_text(&roles, &mut bodies)?,
    };
    report.report_subject = report_subject;
    report.report_message_id = report_message_id;
    report.report_date = report_date;

    if report.description.is_none() {
        if let Some(i) = roles.iter().position(|r| *r == Role::Text) {
            if let PartType::Text(t) = std::mem::take(&mut bodies[i]) {
                report.description = Some(t);
            }
        }
    }
    if report.sample.is_none() {
        let borrowed = match raw {
            Cow::Borrowed(all) => Some(all),
            Cow::Owned(_) => None,
        };
        attach_sample(&mut report, &roles, &mut bodies, &message.parts, borrowed);
    }
    report.id = report.compute_id();
    Ok(report)
}

fn part_bytes(body: PartType<'_>) -> Cow<'_, [u8]> {
    match body {
        PartType::Text(t) | PartType::Html(t) => match t {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        },
        PartType::Binary(b) | PartType::InlineBinary(b) => b,
        PartType::Message(m) => m.raw_message,
        PartType::Multipart(_) => Cow::Borrowed(&[]),
    }
}

fn bytes_to_text(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    match bytes {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(v) => Cow::Owned(
            String::from_utf8(v)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ),
    }
}

/// Fields of the `message/feedback-report` part.
fn from_feedback_fields(text: Cow<'_, str>) -> FailureReport<'_> {
    match text {
        Cow::Borrowed(t) => {
            let fields = header_fields(t);
            build(fields)
        }
        Cow::Owned(t) => {
            let fields: Vec<(String, Cow<'static, str>)> = header_fields(&t)
                .into_iter()
                .map(|(n, v)| (n.to_owned(), Cow::Owned(v.into_owned())))
                .collect();
            let fields: Vec<(&str, Cow<'static, str>)> = fields
                .iter()
                .map(|(n, v)| (n.as_str(), v.clone()))
                .collect();
            build(fields)
        }
    }
}

fn lenient<'a, T: TextEnum<'a>>(
    value: Cow<'a, str>,
    field: &str,
    report_warnings: &mut Vec<String>,
) -> T {
    let shown = value.clone();
    let (v, how) = T::read(value);
    match how {
        Match::Exact => {}
        Match::Folded | Match::Alias => {
            report_warnings.push(format!("non-canonical {field} {shown:?}"))
        }
        Match::Unknown => report_warnings.push(format!("unknown {field} {shown:?} kept verbatim")),
    }
    v
}

fn build<'a>(fields: Vec<(&str, Cow<'a, str>)>) -> FailureReport<'a> {
    let mut warnings = Vec::new();
    let feedback_type = match first(&fields, "Feedback-Type") {
        Some(v) => lenient(v, "Feedback-Type", &mut warnings),
        None => {
            warnings.push("feedback-report without Feedback-Type, taken as auth-failure".into());
            FeedbackType::AuthFailure
        }
    };
    let mut r = FailureReport::new(feedback_type);
    for (name, value) in fields {
        if value.is_empty() {
            continue;
        }
        match name.to_ascii_lowercase().as_str() {
            "feedback-type" => {}
            "user-agent" => r.user_agent = Some(value),
            "version" => r.version = Some(value),
            "original-mail-from" => r.original_mail_from = Some(strip_angles(value)),
            "original-rcpt-to" => r.original_rcpt_to.push(strip_angles(value)),
            "original-envelope-id" => r.original_envelope_id = Some(value),
            "arrival-date" | "received-date" => {
                r.arrival_timestamp =
                    mail_parser::DateTime::parse_rfc822(&value).map(|d| d.to_timestamp());
                match r.arrival_timestamp {
                    None => warnings.push(format!("unreadable Arrival-Date {value:?}")),
                    Some(t) => warnings.extend(unstorable_time("Arrival-Date", t)),
                }
                r.arrival_date = Some(value);
            }
            "reporting-mta" => r.reporting_mta = Some(without_name_type(value)),
            "source-ip" => r.source_ip = Some(first_token(value)),
            "source-port" => r.source_port = value.trim().parse().ok(),
            "incidents" => r.incidents = value.trim().parse().ok(),
            "reported-domain" => r.reported_domain.push(value),
            "reported-uri" => r.reported_uri.push(value),
            "authentication-results" => r.authentication_results.push(value),
            "auth-failure" => r
                .auth_failure
                .push(lenient(value, "Auth-Failure", &mut warnings)),
            "delivery-result" => {
                r.delivery_result = Some(lenient(value, "Delivery-Result", &mut warnings))
            }
            "dkim-domain" => r.dkim_domain = Some(value),
            "dkim-identity" => r.dkim_identity = Some(value),
            "dkim-selector" => r.dkim_selector = Some(value),
            "dkim-canonicalized-header" => {
                r.dkim_canonicalized_header = Some(base64_unfolded(value))
            }
            "dkim-canonicalized-body" => r.dkim_canonicalized_body = Some(base64_unfolded(value)),
            "dkim-selector-dns" => r.dkim_selector_dns = Some(value),
            "dkim-adsp-dns" => r.dkim_adsp_dns = Some(value),
            "spf-dns" => r.spf_dns = Some(value),
            "identity-alignment" => r.identity_alignment = alignment(&value, &mut warnings),
            _ => r.other_fields.push((Cow::Owned(name.to_owned()), value)),
        }
    }
    for w in warnings {
        r.warnings.push(w);
    }
    r
}

/// Base64 fields (RFC 6591 section 3.2) folded over lines: white space is
/// not part of the value.
fn base64_unfolded(value: Cow<'_, str>) -> Cow<'_, str> {
    if value.contains(char::is_whitespace) {
        Cow::Owned(value.split_whitespace().collect())
    } else {
        value
    }
}

/// `dns; mail.example.com` (RFC 5965 mta-name-type) to `mail.example.com`.
fn without_name_type(value: Cow<'_, str>) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(s) => Cow::Borrowed(s.split_once(';').map_or(s, |(_, name)| name.trim())),
        Cow::Owned(s) => Cow::Owned(
            s.split_once(';')
                .map_or(s.as_str(), |(_, name)| name.trim())
                .to_owned(),
        ),
    }
}

/// `1.2.3.4 (host.example)` to `1.2.3.4`.
fn first_token(value: Cow<'_, str>) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(s) => Cow::Borrowed(s.split_whitespace().next().unwrap_or(s)),
        Cow::Owned(s) => Cow::Owned(s.split_whitespace().next().unwrap_or(&s).to_owned()),
    }
}

fn alignment(value: &str, warnings: &mut Vec<String>) -> Vec<AlignmentMethod<'static>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| lenient(Cow::Owned(m.to_owned()), "Identity-Alignment", warnings))
        .collect()
}

/// Exim and others send DMARC forensic reports as text only: read what the
/// text says, and the headers copied after it.
fn from_plain_text<'a>(
    roles: &[Role],
    bodies: &mut [PartType<'a>],
) -> Result<FailureReport<'a>, ParseError> {
    let Some(i) = roles.iter().position(|r| *r == Role::Text) else {
        return Err(ParseError::NotAReport(
            "no message/feedback-report part and no text part".into(),
        ));
    };
    let PartType::Text(text) = std::mem::take(&mut bodies[i]) else {
        return Err(ParseError::NotAReport(
            "no message/feedback-report part".into(),
        ));
    };
    if !text.contains("DMARC") {
        return Err(ParseError::NotAReport(
            "no message/feedback-report part, and the text is not a DMARC failure report".into(),
        ));
    }
    let mut r = FailureReport::new(FeedbackType::AuthFailure);
    r.warnings
        .push("no message/feedback-report part: fields read from the text");
    let mut alignment = Vec::new();
    for line in text.lines() {
        let Some((name, value)) = line.trim().split_once(':') else {
            continue;
        };
        let value = Cow::Owned(value.trim().to_owned());
        match name.trim().to_ascii_lowercase().as_str() {
            "sender domain" | "reported domain" => r.reported_domain.push(value),
            "sender ip address" | "source ip" => r.source_ip = Some(value),
            "received date" | "arrival date" => {
                r.arrival_timestamp =
                    mail_parser::DateTime::parse_rfc822(&value).map(|d| d.to_timestamp());
                r.arrival_date = Some(value);
            }
            "spf alignment" if value.eq_ignore_ascii_case("yes") => {
                alignment.push(AlignmentMethod::Spf)
            }
            "dkim alignment" if value.eq_ignore_ascii_case("yes") => {
                alignment.push(AlignmentMethod::Dkim)
            }
            "spf alignment" | "dkim alignment" => {}
            "dmarc results" => r.other_fields.push((Cow::Borrowed("DMARC-Results"), value)),
            _ => {}
        }
    }
    r.identity_alignment = if alignment.is_empty() {
        vec![AlignmentMethod::None]
    } else {
        alignment
    };
    if let Some(at) = text.find("\nReceived:").or_else(|| text.find("\nFrom:")) {
        let headers = text[at + 1..].to_owned();
        set_original_headers(&mut r, &headers);
        r.sample = Some(Cow::Owned(headers));
        r.sample_kind = SampleKind::Text;
    }
    r.description = Some(text);
    Ok(r)
}

fn set_original_headers(r: &mut FailureReport<'_>, headers: &str) {
    let fields = header_fields(headers);
    let owned = |name: &str| first(&fields, name).map(|v| Cow::Owned(v.into_owned()));
    r.original_from = owned("From");
    r.original_to = owned("To");
    r.original_subject = owned("Subject");
    r.original_message_id = owned("Message-ID");
}

fn attach_sample<'a>(
    r: &mut FailureReport<'a>,
    roles: &[Role],
    bodies: &mut [PartType<'a>],
    parts: &[MessagePart<'a>],
    raw: Option<&'a [u8]>,
) {
    let Some(i) = roles
        .iter()
        .position(|x| matches!(x, Role::ReturnedMessage | Role::ReturnedHeaders))
    else {
        return;
    };
    r.sample_kind = if roles[i] == Role::ReturnedMessage {
        SampleKind::Message
    } else {
        SampleKind::Headers
    };
    // The part's bytes as sent when they stand in the raw email unencoded, so
    // the sample borrows; the decoded body otherwise.
    let p = &parts[i];
    let body = std::mem::take(&mut bodies[i]);
    let sample = match (raw, p.encoding) {
        (Some(all), mail_parser::Encoding::None) => all
            .get(p.offset_body as usize..p.offset_end as usize)
            .map(|b| String::from_utf8_lossy(b)),
        _ => None,
    }
    .unwrap_or_else(|| Cow::Owned(bytes_to_text(part_bytes(body)).into_owned()));
    set_original_headers(r, &sample);
    r.sample = Some(sample);
}
