//! The wire shape of RFC 8460 JSON, loose enough for what Microsoft and
//! Google send: counts as strings, `mx-host` as a string, nulls anywhere.

use std::borrow::Cow;

use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct RawReport<'a> {
    #[serde(rename = "organization-name", borrow, default)]
    pub organization_name: Option<Cow<'a, str>>,
    #[serde(rename = "date-range", borrow, default)]
    pub date_range: Option<RawDateRange<'a>>,
    #[serde(rename = "contact-info", borrow, default)]
    pub contact_info: Option<Cow<'a, str>>,
    #[serde(rename = "report-id", borrow, default)]
    pub report_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub policies: Option<Vec<RawPolicyEntry<'a>>>,
}

#[derive(Deserialize)]
pub(crate) struct RawDateRange<'a> {
    #[serde(rename = "start-datetime", borrow, default)]
    pub start: Option<Cow<'a, str>>,
    #[serde(rename = "end-datetime", borrow, default)]
    pub end: Option<Cow<'a, str>>,
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
    pub policy_type: Option<Cow<'a, str>>,
    #[serde(rename = "policy-string", borrow, default)]
    pub policy_string: Option<OneOrMany<'a>>,
    #[serde(rename = "policy-domain", borrow, default)]
    pub policy_domain: Option<Cow<'a, str>>,
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
    pub result_type: Option<Cow<'a, str>>,
    #[serde(rename = "sending-mta-ip", borrow, default)]
    pub sending_mta_ip: Option<Cow<'a, str>>,
    #[serde(rename = "receiving-mx-hostname", borrow, default)]
    pub receiving_mx_hostname: Option<Cow<'a, str>>,
    #[serde(rename = "receiving-mx-helo", borrow, default)]
    pub receiving_mx_helo: Option<Cow<'a, str>>,
    #[serde(rename = "receiving-ip", borrow, default)]
    pub receiving_ip: Option<Cow<'a, str>>,
    #[serde(rename = "failed-session-count", borrow, default)]
    pub failed_session_count: Option<Count<'a>>,
    #[serde(rename = "additional-information", borrow, default)]
    pub additional_information: Option<Cow<'a, str>>,
    #[serde(rename = "failure-reason-code", borrow, default)]
    pub failure_reason_code: Option<Cow<'a, str>>,
}

/// A list, or one string where a list was due.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany<'a> {
    #[serde(borrow)]
    One(Cow<'a, str>),
    #[serde(borrow)]
    Many(Vec<Option<Cow<'a, str>>>),
}

/// A session count: a number, or a number written as a string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Count<'a> {
    Number(u64),
    Float(f64),
    #[serde(borrow)]
    Text(Cow<'a, str>),
}
