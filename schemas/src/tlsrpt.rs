//! SMTP TLS reports (RFC 8460), normalised.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::identity::IdentityHasher;
use crate::text_enum::text_enum;
use crate::{Source, Warnings, SCHEMA_VERSION};

text_enum!(
    /// RFC 8460 section 4.3 `policy-type`.
    PolicyType { Sts => "sts", Tlsa => "tlsa", NoPolicyFound => "no-policy-found" }
);
text_enum!(
    /// RFC 8460 section 4.3 `result-type`, negotiation and policy failures.
    ResultType {
        StarttlsNotSupported => "starttls-not-supported",
        CertificateHostMismatch => "certificate-host-mismatch",
        CertificateExpired => "certificate-expired",
        CertificateNotTrusted => "certificate-not-trusted",
        ValidationFailure => "validation-failure",
        TlsaInvalid => "tlsa-invalid",
        DnssecInvalid => "dnssec-invalid",
        DaneRequired => "dane-required",
        StsPolicyFetchError => "sts-policy-fetch-error",
        StsPolicyInvalid => "sts-policy-invalid",
        StsWebpkiInvalid => "sts-webpki-invalid",
    }
);

/// One TLS report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsReport<'a> {
    pub schema_version: u32,
    /// Organisation + report id.
    pub id: String,
    pub organization_name: Cow<'a, str>,
    /// `start-datetime` and `end-datetime` as sent.
    pub start_datetime: Cow<'a, str>,
    pub end_datetime: Cow<'a, str>,
    /// The same in seconds since the epoch (0 when unreadable, with a warning).
    pub begin: i64,
    pub end: i64,
    pub contact_info: Option<Cow<'a, str>>,
    pub report_id: Cow<'a, str>,
    pub policies: Vec<TlsPolicy<'a>>,
    #[serde(default)]
    pub warnings: Warnings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsPolicy<'a> {
    pub policy_type: PolicyType<'a>,
    pub policy_string: Vec<Cow<'a, str>>,
    pub policy_domain: Cow<'a, str>,
    pub mx_host: Vec<Cow<'a, str>>,
    pub total_successful_session_count: u64,
    pub total_failure_session_count: u64,
    pub failure_details: Vec<FailureDetail<'a>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureDetail<'a> {
    pub result_type: ResultType<'a>,
    pub sending_mta_ip: Option<Cow<'a, str>>,
    pub receiving_mx_hostname: Option<Cow<'a, str>>,
    pub receiving_mx_helo: Option<Cow<'a, str>>,
    pub receiving_ip: Option<Cow<'a, str>>,
    pub failed_session_count: u64,
    pub additional_information: Option<Cow<'a, str>>,
    pub failure_reason_code: Option<Cow<'a, str>>,
    /// Who `sending_mta_ip` is, when enrichment is configured
    /// (`dmarcflow_enrich`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_mta_source: Option<Box<Source>>,
    /// Who `receiving_ip` is, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_source: Option<Box<Source>>,
}

impl<'a> TlsReport<'a> {
    /// An empty report, to be filled by a parser.
    pub fn empty() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            id: String::new(),
            organization_name: Cow::Borrowed(""),
            start_datetime: Cow::Borrowed(""),
            end_datetime: Cow::Borrowed(""),
            begin: 0,
            end: 0,
            contact_info: None,
            report_id: Cow::Borrowed(""),
            policies: Vec::new(),
            warnings: Warnings::default(),
        }
    }

    /// Organisation + report id (RFC 8460 makes the report id unique per sender).
    pub fn compute_id(&self) -> String {
        IdentityHasher::new("tlsrpt")
            .field(self.organization_name.trim().as_bytes())
            .field(self.report_id.trim().as_bytes())
            .finish()
    }

    /// Successful and failed sessions over all policies.
    pub fn session_totals(&self) -> (u64, u64) {
        self.policies.iter().fold((0, 0), |(ok, fail), p| {
            (
                ok + p.total_successful_session_count,
                fail + p.total_failure_session_count,
            )
        })
    }
}

impl TlsReport<'_> {
    /// Detaches the report from the buffer it borrows.
    pub fn into_owned(self) -> TlsReport<'static> {
        TlsReport {
            schema_version: self.schema_version,
            id: self.id,
            organization_name: owned(self.organization_name),
            start_datetime: owned(self.start_datetime),
            end_datetime: owned(self.end_datetime),
            begin: self.begin,
            end: self.end,
            contact_info: self.contact_info.map(owned),
            report_id: owned(self.report_id),
            policies: self
                .policies
                .into_iter()
                .map(|p| TlsPolicy {
                    policy_type: p.policy_type.into_owned(),
                    policy_string: p.policy_string.into_iter().map(owned).collect(),
                    policy_domain: owned(p.policy_domain),
                    mx_host: p.mx_host.into_iter().map(owned).collect(),
                    total_successful_session_count: p.total_successful_session_count,
                    total_failure_session_count: p.total_failure_session_count,
                    failure_details: p
                        .failure_details
                        .into_iter()
                        .map(|d| FailureDetail {
                            result_type: d.result_type.into_owned(),
                            sending_mta_ip: d.sending_mta_ip.map(owned),
                            receiving_mx_hostname: d.receiving_mx_hostname.map(owned),
                            receiving_mx_helo: d.receiving_mx_helo.map(owned),
                            receiving_ip: d.receiving_ip.map(owned),
                            failed_session_count: d.failed_session_count,
                            additional_information: d.additional_information.map(owned),
                            failure_reason_code: d.failure_reason_code.map(owned),
                            sending_mta_source: d.sending_mta_source,
                            receiving_source: d.receiving_source,
                        })
                        .collect(),
                })
                .collect(),
            warnings: self.warnings,
        }
    }
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}
