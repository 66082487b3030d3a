//! The personal fields of a failure report, as sealed: one JSON object
//! (every member present, null or empty when the report had none), so an
//! owner who opens a blob with `age -d` reads exactly what was sent.

use std::borrow::Cow;

use dmarcflow_schemas::failure::FailureReport;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonalFields<'a> {
    pub original_mail_from: Option<Cow<'a, str>>,
    pub original_rcpt_to: Vec<Cow<'a, str>>,
    pub original_envelope_id: Option<Cow<'a, str>>,
    pub original_from: Option<Cow<'a, str>>,
    pub original_to: Option<Cow<'a, str>>,
    pub original_subject: Option<Cow<'a, str>>,
    pub original_message_id: Option<Cow<'a, str>>,
    pub report_subject: Option<Cow<'a, str>>,
    pub description: Option<Cow<'a, str>>,
    pub dkim_identity: Option<Cow<'a, str>>,
    pub dkim_canonicalized_header: Option<Cow<'a, str>>,
    pub dkim_canonicalized_body: Option<Cow<'a, str>>,
    pub authentication_results: Vec<Cow<'a, str>>,
    pub reported_uri: Vec<Cow<'a, str>>,
    pub other_fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// The returned headers (or whole message) as sent.
    pub sample: Option<Cow<'a, str>>,
}

impl<'a> PersonalFields<'a> {
    /// The fields of a report, borrowed.
    pub fn of(r: &'a FailureReport<'_>) -> Self {
        let b = |v: &'a Option<Cow<'_, str>>| v.as_deref().map(Cow::Borrowed);
        let list = |v: &'a [Cow<'_, str>]| v.iter().map(|t| Cow::Borrowed(t.as_ref())).collect();
        Self {
            original_mail_from: b(&r.original_mail_from),
            original_rcpt_to: list(&r.original_rcpt_to),
            original_envelope_id: b(&r.original_envelope_id),
            original_from: b(&r.original_from),
            original_to: b(&r.original_to),
            original_subject: b(&r.original_subject),
            original_message_id: b(&r.original_message_id),
            report_subject: b(&r.report_subject),
            description: b(&r.description),
            dkim_identity: b(&r.dkim_identity),
            dkim_canonicalized_header: b(&r.dkim_canonicalized_header),
            dkim_canonicalized_body: b(&r.dkim_canonicalized_body),
            authentication_results: list(&r.authentication_results),
            reported_uri: list(&r.reported_uri),
            other_fields: r
                .other_fields
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_ref()), Cow::Borrowed(v.as_ref())))
                .collect(),
            sample: b(&r.sample),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        // Strings and lists of strings always serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_json(bytes: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}
