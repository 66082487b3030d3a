//! DMARC failure reports: ARF (RFC 5965) with the authentication failure
//! extensions (RFC 6591), normalised.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::identity::IdentityHasher;
use crate::text_enum::text_enum;
use crate::{Warnings, SCHEMA_VERSION};

text_enum!(
    /// ARF `Feedback-Type` (RFC 5965 section 7.3, RFC 6591).
    FeedbackType {
        AuthFailure => "auth-failure", Abuse => "abuse", Fraud => "fraud", NotSpam => "not-spam",
        Virus => "virus", OptOut => "opt-out" | "optout", OtherFeedback => "other",
    }
);
text_enum!(
    /// RFC 6591 `Auth-Failure`.
    AuthFailure {
        Adsp => "adsp", BodyHash => "bodyhash", Revoked => "revoked", Signature => "signature",
        Spf => "spf", Dmarc => "dmarc",
    }
);
text_enum!(
    /// RFC 6591 `Delivery-Result`.
    DeliveryResult {
        Delivered => "delivered", Spam => "spam", Policy => "policy", Reject => "reject",
        OtherResult => "other",
    }
);
text_enum!(
    /// One method named by RFC 7489 `Identity-Alignment`.
    AlignmentMethod { None => "none", Dkim => "dkim", Spf => "spf" }
);

/// Where the report's copy of the failing message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleKind {
    /// A `message/rfc822` part: headers and body.
    Message,
    /// A `text/rfc822-headers` part (or the misspelled `text/rfc822-header`).
    Headers,
    /// No machine-readable part: taken from the human-readable text (Exim).
    Text,
    /// Nothing returned.
    None,
}

/// How a report's personal fields (the returned message, the original
/// addresses, subject and message id: see `dmarcflow_privacy`) are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Personal {
    /// As the reporter sent them (`[privacy] failure_reports = "clear"`, or
    /// a report from before privacy existed).
    #[default]
    Clear,
    /// Local parts replaced by a keyed hash, the subject and body dropped,
    /// header fields kept only when they are authentication headers.
    Redacted,
    /// Redacted as above, and the originals sealed in `sealed`.
    Sealed,
}

impl Personal {
    pub fn as_str(self) -> &'static str {
        match self {
            Personal::Clear => "clear",
            Personal::Redacted => "redacted",
            Personal::Sealed => "sealed",
        }
    }

    /// A stored value back (`''` is a row from before the column: clear).
    pub fn from_stored(text: &str) -> Option<Self> {
        match text {
            "" | "clear" => Some(Personal::Clear),
            "redacted" => Some(Personal::Redacted),
            "sealed" => Some(Personal::Sealed),
            _ => None,
        }
    }
}

/// One failure report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureReport<'a> {
    pub schema_version: u32,
    /// Hash of the ARF fields and the returned headers.
    pub id: String,
    pub feedback_type: FeedbackType<'a>,
    pub user_agent: Option<Cow<'a, str>>,
    pub version: Option<Cow<'a, str>>,
    pub original_mail_from: Option<Cow<'a, str>>,
    pub original_rcpt_to: Vec<Cow<'a, str>>,
    pub original_envelope_id: Option<Cow<'a, str>>,
    /// `Arrival-Date` as sent.
    pub arrival_date: Option<Cow<'a, str>>,
    /// `Arrival-Date` in seconds since the epoch, when it could be read.
    pub arrival_timestamp: Option<i64>,
    pub reporting_mta: Option<Cow<'a, str>>,
    pub source_ip: Option<Cow<'a, str>>,
    /// Who `source_ip` is, when enrichment is configured; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<crate::Source>>,
    pub source_port: Option<u16>,
    pub incidents: Option<u64>,
    pub reported_domain: Vec<Cow<'a, str>>,
    pub reported_uri: Vec<Cow<'a, str>>,
    pub authentication_results: Vec<Cow<'a, str>>,
    pub auth_failure: Vec<AuthFailure<'a>>,
    pub delivery_result: Option<DeliveryResult<'a>>,
    pub dkim_domain: Option<Cow<'a, str>>,
    pub dkim_identity: Option<Cow<'a, str>>,
    pub dkim_selector: Option<Cow<'a, str>>,
    pub dkim_canonicalized_header: Option<Cow<'a, str>>,
    pub dkim_canonicalized_body: Option<Cow<'a, str>>,
    pub dkim_selector_dns: Option<Cow<'a, str>>,
    pub dkim_adsp_dns: Option<Cow<'a, str>>,
    pub spf_dns: Option<Cow<'a, str>>,
    pub identity_alignment: Vec<AlignmentMethod<'a>>,
    /// Fields of the feedback-report part this version does not know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub sample_kind: SampleKind,
    /// The returned headers (or whole message) as sent.
    pub sample: Option<Cow<'a, str>>,
    /// From the returned headers, for queries that need no header parsing.
    pub original_from: Option<Cow<'a, str>>,
    pub original_to: Option<Cow<'a, str>>,
    pub original_subject: Option<Cow<'a, str>>,
    pub original_message_id: Option<Cow<'a, str>>,
    /// The report email's own Subject, Date and Message-Id.
    pub report_subject: Option<Cow<'a, str>>,
    pub report_date: Option<i64>,
    pub report_message_id: Option<Cow<'a, str>>,
    /// The human-readable first part.
    pub description: Option<Cow<'a, str>>,
    #[serde(default)]
    pub warnings: Warnings,
    /// How the personal fields above are kept.
    #[serde(default)]
    pub personal: Personal,
    /// With `personal` = `sealed`: the original personal fields, one JSON
    /// object encrypted to the owner's keys (ASCII-armoured age or OpenPGP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Cow<'a, str>>,
}

impl<'a> FailureReport<'a> {
    /// An empty report of a feedback type, to be filled by a parser.
    pub fn new(feedback_type: FeedbackType<'a>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            id: String::new(),
            feedback_type,
            user_agent: None,
            version: None,
            original_mail_from: None,
            original_rcpt_to: Vec::new(),
            original_envelope_id: None,
            arrival_date: None,
            arrival_timestamp: None,
            reporting_mta: None,
            source_ip: None,
            source: None,
            source_port: None,
            incidents: None,
            reported_domain: Vec::new(),
            reported_uri: Vec::new(),
            authentication_results: Vec::new(),
            auth_failure: Vec::new(),
            delivery_result: None,
            dkim_domain: None,
            dkim_identity: None,
            dkim_selector: None,
            dkim_canonicalized_header: None,
            dkim_canonicalized_body: None,
            dkim_selector_dns: None,
            dkim_adsp_dns: None,
            spf_dns: None,
            identity_alignment: Vec::new(),
            other_fields: Vec::new(),
            sample_kind: SampleKind::None,
            sample: None,
            original_from: None,
            original_to: None,
            original_subject: None,
            original_message_id: None,
            report_subject: None,
            report_date: None,
            report_message_id: None,
            description: None,
            warnings: Warnings::default(),
            personal: Personal::Clear,
            sealed: None,
        }
    }

    /// A hash of the ARF fields and the returned headers: the same report
    /// delivered twice hashes the same; two incidents do not.
    pub fn compute_id(&self) -> String {
        let mut h = IdentityHasher::new("failure");
        h.field(self.feedback_type.as_str().as_bytes())
            .opt(self.user_agent.as_deref())
            .opt(self.original_mail_from.as_deref())
            .opt(self.arrival_date.as_deref())
            .opt(self.source_ip.as_deref())
            .opt(self.original_envelope_id.as_deref())
            .opt(self.reporting_mta.as_deref());
        for d in &self.reported_domain {
            h.field(d.as_bytes());
        }
        for a in &self.authentication_results {
            h.field(a.as_bytes());
        }
        for r in &self.original_rcpt_to {
            h.field(r.as_bytes());
        }
        if let Some(sample) = &self.sample {
            // Line by line, without CR: a CRLF and an LF copy are one report.
            for line in headers_only(sample).lines() {
                h.field(line.trim_end_matches('\r').as_bytes());
            }
        }
        h.finish()
    }

    /// Whether this is a DMARC failure report rather than other ARF
    /// (abuse or opt-out feedback loops, fraud, virus).
    pub fn is_auth_failure(&self) -> bool {
        matches!(self.feedback_type, FeedbackType::AuthFailure)
    }
}

/// The header block of a returned message: the body does not enter the
/// identity, since some senders redact or truncate it differently per copy.
fn headers_only(sample: &str) -> &str {
    let end = sample
        .find("\r\n\r\n")
        .or_else(|| sample.find("\n\n"))
        .unwrap_or(sample.len());
    &sample[..end]
}

impl FailureReport<'_> {
    /// Detaches the report from the buffer it borrows.
    pub fn into_owned(self) -> FailureReport<'static> {
        FailureReport {
            schema_version: self.schema_version,
            id: self.id,
            feedback_type: self.feedback_type.into_owned(),
            user_agent: self.user_agent.map(owned),
            version: self.version.map(owned),
            original_mail_from: self.original_mail_from.map(owned),
            original_rcpt_to: self.original_rcpt_to.into_iter().map(owned).collect(),
            original_envelope_id: self.original_envelope_id.map(owned),
            arrival_date: self.arrival_date.map(owned),
            arrival_timestamp: self.arrival_timestamp,
            reporting_mta: self.reporting_mta.map(owned),
            source_ip: self.source_ip.map(owned),
            source: self.source,
            source_port: self.source_port,
            incidents: self.incidents,
            reported_domain: self.reported_domain.into_iter().map(owned).collect(),
            reported_uri: self.reported_uri.into_iter().map(owned).collect(),
            authentication_results: self.authentication_results.into_iter().map(owned).collect(),
            auth_failure: self
                .auth_failure
                .into_iter()
                .map(AuthFailure::into_owned)
                .collect(),
            delivery_result: self.delivery_result.map(DeliveryResult::into_owned),
            dkim_domain: self.dkim_domain.map(owned),
            dkim_identity: self.dkim_identity.map(owned),
            dkim_selector: self.dkim_selector.map(owned),
            dkim_canonicalized_header: self.dkim_canonicalized_header.map(owned),
            dkim_canonicalized_body: self.dkim_canonicalized_body.map(owned),
            dkim_selector_dns: self.dkim_selector_dns.map(owned),
            dkim_adsp_dns: self.dkim_adsp_dns.map(owned),
            spf_dns: self.spf_dns.map(owned),
            identity_alignment: self
                .identity_alignment
                .into_iter()
                .map(AlignmentMethod::into_owned)
                .collect(),
            other_fields: self
                .other_fields
                .into_iter()
                .map(|(k, v)| (owned(k), owned(v)))
                .collect(),
            sample_kind: self.sample_kind,
            sample: self.sample.map(owned),
            original_from: self.original_from.map(owned),
            original_to: self.original_to.map(owned),
            original_subject: self.original_subject.map(owned),
            original_message_id: self.original_message_id.map(owned),
            report_subject: self.report_subject.map(owned),
            report_date: self.report_date,
            report_message_id: self.report_message_id.map(owned),
            description: self.description.map(owned),
            warnings: self.warnings,
            personal: self.personal,
            sealed: self.sealed.map(owned),
        }
    }
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}
