//! The wire shape of RFC 8460 JSON, loose enough for what Microsoft and
//! Google send: counts as strings, `mx-host` as a string, nulls anywhere.

use std::borrow::Cow;

use serde::de::{Deserializer, Visitor};
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct RawReport<'a> {
    #[serde(rename = "organization-name", borrow, default)]
    pub organization_name: Option<Text<'a>>,
    #[serde(rename = "date-range", borrow, default)]
    pub date_range: Option<RawDateRange<'a>>,
    #[serde(rename = "contact-info", borrow, default)]
    pub contact_info: Option<Text<'a>>,
    #[serde(rename = "report-id", borrow, default)]
    pub report_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub policies: Option<Vec<RawPolicyEntry<'a>>>,
}

#[derive(Deserialize)]
pub(crate) struct RawDateRange<'a> {
    #[serde(rename = "start-datetime", borrow, default)]
    pub start: Option<Text<'a>>,
    #[serde(rename = "end-datetime", borrow, default)]
    pub end: Option<Text<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct RawPolicyEntry<'a> {
    #[serde(borrow, default)]
    pub policy: Option<RawPolicy<'a>>,
    #[serde(default)]
    pub summary: Option<RawSummary<'a>>,
    #[serde(rename = "failure-details", borrow, default)]
    pub failure_details: Option<Vec<RawFailure<'a>>>,
}

#[derive(Deserialize)]
pub(crate) struct RawPolicy<'a> {
    #[serde(rename = "policy-type", borrow, default)]
    pub policy_type: Option<Text<'a>>,
    #[serde(rename = "policy-string", borrow, default)]
    pub policy_string: Option<OneOrMany<'a>>,
    #[serde(rename = "policy-domain", borrow, default)]
    pub policy_domain: Option<Text<'a>>,
    #[serde(rename = "mx-host", borrow, default)]
    pub mx_host: Option<OneOrMany<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct RawSummary<'a> {
    #[serde(rename = "total-successful-session-count", borrow, default)]
    pub successful: Option<Count<'a>>,
    #[serde(rename = "total-failure-session-count", borrow, default)]
    pub failure: Option<Count<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct RawFailure<'a> {
    #[serde(rename = "result-type", borrow, default)]
    pub result_type: Option<Text<'a>>,
    #[serde(rename = "sending-mta-ip", borrow, default)]
    pub sending_mta_ip: Option<Text<'a>>,
    #[serde(rename = "receiving-mx-hostname", borrow, default)]
    pub receiving_mx_hostname: Option<Text<'a>>,
    #[serde(rename = "receiving-mx-helo", borrow, default)]
    pub receiving_mx_helo: Option<Text<'a>>,
    #[serde(rename = "receiving-ip", borrow, default)]
    pub receiving_ip: Option<Text<'a>>,
    #[serde(rename = "failed-session-count", borrow, default)]
    pub failed_session_count: Option<Count<'a>>,
    #[serde(rename = "additional-information", borrow, default)]
    pub additional_information: Option<Text<'a>>,
    #[serde(rename = "failure-reason-code", borrow, default)]
    pub failure_reason_code: Option<Text<'a>>,
}

/// A list, or one string where a list was due.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany<'a> {
    #[serde(borrow)]
    One(Text<'a>),
    #[serde(borrow)]
    Many(Vec<Option<Text<'a>>>),
}

/// A session count: a number, or a number written as a string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Count<'a> {
    Number(u64),
    Float(f64),
    #[serde(borrow)]
    Text(Text<'a>),
}

/// A JSON string borrowed from the document when it has no escapes.
/// (`Option<Cow<str>>` with `#[serde(borrow)]` would always copy.)
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}
