//! Finding report payloads in an email, whatever the sender did: attachments
//! of any (or a wrong) content type, inline parts, a top-level body that is
//! the report itself (Mimecast), base64 or quoted-printable, reports
//! forwarded as `message/rfc822`. Magic bytes decide first, then content
//! type, then file name.

use std::borrow::Cow;
use std::sync::LazyLock;

use mail_parser::{HeaderName, Message, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::decompress::{unpack_within, Budget, Rejection, Unpacked};
use crate::detect::{sniff, Format};
use crate::failure::{has_feedback_report, parse_arf};
use crate::item::Item;
use crate::{Limits, ParseError};

/// Content types that carry reports (RFC 7489 section 7.2.1.1, RFC 8460
/// section 5.3, and what real senders use).
const REPORT_TYPES: &[&str] = &[
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "application/x-zip",
    "application/x-zip-compressed",
    "application/xml",
    "text/xml",
    "application/octet-stream",
    "application/tlsrpt+gzip",
    "application/tlsrpt+json",
    "application/json",
];

const REPORT_EXTENSIONS: &[&str] = &[
    ".xml", ".gz", ".gzip", ".zip", ".json", ".xml.gz", ".json.gz",
];

/// The MIME parser configured for reports: it reads the headers that
/// locate and decode parts, and the few a failure report keeps (`Subject`,
/// `Date`, `Message-ID`); every other header (`Received`, `DKIM-Signature`,
/// `ARC-*`, ...) is only skipped over, never tokenised. mail-parser's default
/// reads all of them, which on a small report costs more than the report.
pub fn message_parser() -> &'static MessageParser {
    static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
        MessageParser::new()
            .with_mime_headers()
            .header_text(HeaderName::Subject)
            .header_date(HeaderName::Date)
            .header_id(HeaderName::MessageId)
            .default_header_ignore()
    });
    &PARSER
}

/// Parses an email's MIME structure. mail-parser has internal assertions
/// that hostile input can trip (seen by fuzzing); a panic there becomes a
/// typed error here, never a dead ingest process.
pub fn parse_message(raw: &[u8]) -> Result<Message<'_>, ParseError> {
    let parser = message_parser();
    match std::panic::catch_unwind(|| parser.parse(raw)) {
        Ok(Some(message)) => Ok(message),
        Ok(None) => Err(ParseError::Mime("no header block found".into())),
        Err(_) => Err(ParseError::Mime(
            "the MIME parser failed on this message".into(),
        )),
    }
}

/// Everything an email holds: report payloads, or a failure report.
pub fn extract_email<'a>(
    raw: &'a [u8],
    origin: &str,
    limits: Limits,
    budget: &mut Budget,
) -> Vec<Result<Item<'a>, Rejection>> {
    if let Err(error) = check_shape(raw, limits) {
        return vec![Err(Rejection {
            origin: origin.to_owned(),
            error,
        })];
    }
    match parse_message(raw) {
        Ok(message) => extract_message(message, origin, limits, budget, 0),
        Err(error) => vec![Err(Rejection {
            origin: origin.to_owned(),
            error,
        })],
    }
}

/// Counts boundary lines and header fields before the MIME parser sees the
/// email: their number, not the email's size, is what its memory follows.
/// Both counts are upper bounds (a body line may look like either).
pub fn check_shape(raw: &[u8], limits: Limits) -> Result<(), ParseError> {
    let (mut parts, mut fields) = (0usize, 0usize);
    let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', raw).map(|i| i + 1));
    for start in starts {
        let line = &raw[start..];
        if line.starts_with(b"--") {
            parts += 1;
            if parts > limits.max_mime_parts {
                return Err(ParseError::LimitExceeded(format!(
                    "email has more than {} MIME parts",
                    limits.max_mime_parts
                )));
            }
        } else if is_field_line(line) {
            fields += 1;
            if fields > limits.max_header_fields {
                return Err(ParseError::LimitExceeded(format!(
                    "email has more than {} header fields",
                    limits.max_header_fields
                )));
            }
        }
    }
    Ok(())
}

/// `Name:` at the start of a line (base64 lines never hold a colon).
fn is_field_line(line: &[u8]) -> bool {
    let name = line
        .iter()
        .take(80)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .count();
    name > 0 && line.get(name) == Some(&b':')
}

fn extract_message<'a>(
    mut message: Message<'a>,
    origin: &str,
    limits: Limits,
    budget: &mut Budget,
    depth: usize,
) -> Vec<Result<Item<'a>, Rejection>> {
    let reject = |error| {
        vec![Err(Rejection {
            origin: origin.to_owned(),
            error,
        })]
    };
    if has_feedback_report(&message) {
        return match parse_arf(message) {
            Ok(r) if r.is_auth_failure() => vec![Ok(Item::Failure(Box::new(r)))],
            Ok(r) => reject(ParseError::NotDmarc(format!(
                "ARF feedback-type {} is not a DMARC failure report",
                r.feedback_type
            ))),
            Err(e) => reject(e),
        };
    }
    // Decide first, consume after: the text-only fallback needs the parts intact.
    let candidates: Vec<(usize, String)> = (message.parts.iter().enumerate())
        .filter_map(|(i, part)| {
            let content_type = content_type(part);
            is_candidate_part(part, &content_type, depth).then_some((i, content_type))
        })
        .collect();
    if candidates.is_empty() {
        // Some MTAs (Exim) send DMARC failure reports as text only.
        if depth == 0 && is_report_email(&message) {
            return match parse_arf(message) {
                Ok(r) => vec![Ok(Item::Failure(Box::new(r)))],
                Err(e) => reject(e),
            };
        }
        return reject(ParseError::NotAReport(
            "email has no report attachment".into(),
        ));
    }
    let mut out = Vec::new();
    for (index, content_type) in candidates {
        let part = &mut message.parts[index];
        let name = part.attachment_name().map(str::to_owned);
        let part_origin = format!("{origin} > {}", name.as_deref().unwrap_or(&content_type));
        let bytes = match std::mem::take(&mut part.body) {
            PartType::Message(nested) => {
                out.extend(extract_message(
                    nested,
                    &part_origin,
                    limits,
                    budget,
                    depth + 1,
                ));
                continue;
            }
            PartType::Binary(b) | PartType::InlineBinary(b) => b,
            PartType::Text(t) | PartType::Html(t) => match t {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            },
            PartType::Multipart(_) => continue,
        };
        let mislabelled = mislabel(&bytes, &content_type);
        for item in unpack_within(bytes, part_origin, limits, budget) {
            out.push(item.map(|u| match u {
                Unpacked::Payload(mut p) => {
                    if let Some(w) = &mislabelled {
                        p.warnings.push(w.clone());
                    }
                    Item::Payload(p)
                }
                Unpacked::Stream(s) => Item::Stream(s),
            }));
        }
    }
    out
}

/// Whether a part should be unpacked: a forwarded message that itself
/// carries a report, or bytes that may be one.
fn is_candidate_part(part: &MessagePart<'_>, content_type: &str, depth: usize) -> bool {
    let name = part.attachment_name();
    match &part.body {
        PartType::Message(nested) => {
            depth < 2
                && (nested.parts.iter())
                    .any(|p| is_candidate_part(p, &self::content_type(p), depth + 1))
        }
        PartType::Binary(b) | PartType::InlineBinary(b) => is_candidate(b, content_type, name),
        PartType::Text(t) | PartType::Html(t) => is_candidate(t.as_bytes(), content_type, name),
        PartType::Multipart(_) => false,
    }
}

fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None => "text/plain".into(),
    }
}

/// Whether a part may hold a report: its bytes say so, or its label does.
fn is_candidate(bytes: &[u8], content_type: &str, name: Option<&str>) -> bool {
    let by_name = name.is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        REPORT_EXTENSIONS.iter().any(|ext| n.ends_with(ext))
    });
    match sniff(bytes) {
        Format::Gzip | Format::Zip | Format::Zlib => true,
        // An HTML or plain-text body starts with `<` too: only a report's root counts.
        Format::Xml if content_type.starts_with("text/html") => by_name,
        Format::Xml if content_type.starts_with("text/plain") => {
            by_name || contains(bytes, b"<feedback")
        }
        Format::Json if content_type.starts_with("text/") => {
            by_name || contains(bytes, b"\"policies\"")
        }
        Format::Xml | Format::Json => true,
        _ => by_name || REPORT_TYPES.contains(&content_type),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(&haystack[..haystack.len().min(4096)], needle).is_some()
}

/// A note when the label and the bytes disagree (a zip labelled gzip).
fn mislabel(bytes: &[u8], content_type: &str) -> Option<String> {
    let actual = sniff(bytes);
    let claimed = match content_type {
        t if t.contains("gzip") => Format::Gzip,
        t if t.contains("zip") => Format::Zip,
        t if t.ends_with("xml") => Format::Xml,
        t if t.ends_with("json") => Format::Json,
        _ => return None,
    };
    (claimed != actual).then(|| format!("part labelled {content_type} is {}", actual.name()))
}

/// A multipart/report, or a subject that names a DMARC failure report.
fn is_report_email(message: &Message<'_>) -> bool {
    let root_is_report = message.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let subject = message.subject().unwrap_or("").to_ascii_lowercase();
    root_is_report
        || (subject.contains("dmarc")
            && (subject.contains("forensic") || subject.contains("failure")))
}

/// Splits an mbox into its messages (the `From ` separator lines dropped,
/// `>From ` unquoted is left to the reader: it only touches bodies).
pub fn split_mbox(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    if data.starts_with(b"From ") {
        starts.push(0);
    }
    starts.extend(memchr::memmem::find_iter(data, b"\nFrom ").map(|i| i + 1));
    let mut out = Vec::with_capacity(starts.len());
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(data.len());
        let chunk = &data[start..end];
        let body_start = memchr::memchr(b'\n', chunk).map_or(chunk.len(), |i| i + 1);
        let message = &chunk[body_start..];
        if !message.iter().all(u8::is_ascii_whitespace) {
            out.push(message);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_split() {
        let mbox = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: two\n\nbody2\n";
        let msgs = split_mbox(mbox);
        assert_eq!(msgs.len(), 2);
        assert!(msgs[0].starts_with(b"Subject: one"));
        assert!(msgs[1].starts_with(b"Subject: two"));
    }

    #[test]
    fn candidates() {
        assert!(is_candidate(b"\x1f\x8b\x08", "text/plain", None));
        assert!(!is_candidate(b"<html><body>", "text/html", None));
        assert!(is_candidate(b"<?xml?><feedback>", "text/plain", None));
        assert!(!is_candidate(
            b"Hello, this is a report",
            "text/plain",
            None
        ));
        assert!(is_candidate(b"garbage", "application/gzip", None));
        assert!(is_candidate(
            b"garbage",
            "application/foo",
            Some("r.xml.gz")
        ));
        assert_eq!(
            mislabel(b"PK\x03\x04", "application/gzip").as_deref(),
            Some("part labelled application/gzip is zip")
        );
    }
}
