//! DMARC aggregate reports (RFC 7489 appendix C, RFC 9990), normalised.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use crate::auth_results::AuthResults;
use crate::identity::IdentityHasher;
use crate::text_enum::text_enum;
use crate::{Source, Warnings, SCHEMA_VERSION};

text_enum!(
    /// `p`, `sp` and `np` of the published policy.
    PolicyAction { None => "none", Quarantine => "quarantine", Reject => "reject" }
);
text_enum!(
    /// The disposition the receiver applied (RFC 9990 adds `pass`).
    Disposition { None => "none", Pass => "pass", Quarantine => "quarantine", Reject => "reject" }
);
text_enum!(
    /// DKIM and SPF identifier alignment mode.
    Alignment { Relaxed => "r" | "relaxed", Strict => "s" | "strict" }
);
text_enum!(
    /// The DMARC-aligned result in `policy_evaluated`.
    DmarcResult { Pass => "pass", Fail => "fail" }
);
text_enum!(
    /// A DKIM verification result (RFC 8601).
    DkimResult {
        None => "none", Pass => "pass", Fail => "fail" | "hardfail", Policy => "policy",
        Neutral => "neutral", TempError => "temperror" | "temp-error", PermError => "permerror" | "perm-error",
    }
);
text_enum!(
    /// An SPF result (RFC 7208).
    SpfResult {
        None => "none", Neutral => "neutral", Pass => "pass", Fail => "fail" | "hardfail",
        SoftFail => "softfail", TempError => "temperror" | "temp-error" | "error",
        PermError => "permerror" | "perm-error", Policy => "policy",
    }
);
text_enum!(
    /// The identity SPF checked.
    SpfScope { MailFrom => "mfrom" | "mailfrom" | "mail_from", Helo => "helo" | "ehlo" }
);
text_enum!(
    /// Why the receiver did not apply the published policy.
    OverrideReason {
        Forwarded => "forwarded", SampledOut => "sampled_out", TrustedForwarder => "trusted_forwarder",
        MailingList => "mailing_list", LocalPolicy => "local_policy", OtherReason => "other",
        PolicyTestMode => "policy_test_mode",
    }
);
text_enum!(
    /// RFC 9990 `testing` (the `t` tag).
    Testing { Yes => "y", No => "n" }
);
text_enum!(
    /// RFC 9990 `discovery_method`.
    DiscoveryMethod { Psl => "psl", Treewalk => "treewalk" }
);

/// One aggregate report: metadata, published policy and every record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateReport<'a> {
    /// Always [`SCHEMA_VERSION`] on output.
    pub schema_version: u32,
    /// The stable identity (Kafka key, dedup key); see [`AggregateReport::compute_id`].
    pub id: String,
    /// `<version>` as written, if present.
    pub version: Option<Cow<'a, str>>,
    /// `urn:ietf:params:xml:ns:dmarc-2.0` for RFC 9990 reports, else absent.
    pub namespace: Option<Cow<'a, str>>,
    pub metadata: ReportMetadata<'a>,
    pub policy_published: PolicyPublished<'a>,
    pub records: Vec<Record<'a>>,
    /// Report-level `<extensions>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension<'a>>,
    /// Every tolerance the parser applied, deduplicated.
    #[serde(default)]
    pub warnings: Warnings,
    /// Set when a large report travels in parts (see [`Part`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<Part>,
}

/// Where a part of a large report sits in the whole: its records are
/// `first_record..first_record + records.len()` of `total_records`. Every
/// part repeats the report's header and identity; stores write the header
/// once, with the final part (the one holding the last record). A part can
/// be cut again (to fit a Kafka message) without renumbering anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub first_record: u64,
    pub total_records: u64,
    pub total_messages: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportMetadata<'a> {
    pub org_name: Cow<'a, str>,
    pub email: Cow<'a, str>,
    pub extra_contact_info: Option<Cow<'a, str>>,
    /// Normalised as parsedmarc does: `<>` stripped, anything from `@` on dropped.
    pub report_id: Cow<'a, str>,
    /// The report id as sent, when normalisation changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id_raw: Option<Cow<'a, str>>,
    /// Seconds since the epoch, UTC.
    pub begin: i64,
    pub end: i64,
    pub errors: Vec<Cow<'a, str>>,
    /// RFC 9990 `<generator>`.
    pub generator: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyPublished<'a> {
    pub domain: Cow<'a, str>,
    pub version_published: Option<Cow<'a, str>>,
    pub adkim: Option<Alignment<'a>>,
    pub aspf: Option<Alignment<'a>>,
    pub p: Option<PolicyAction<'a>>,
    pub sp: Option<PolicyAction<'a>>,
    /// RFC 9990 non-existent subdomain policy.
    pub np: Option<PolicyAction<'a>>,
    pub pct: Option<u32>,
    pub fo: Option<Cow<'a, str>>,
    pub testing: Option<Testing<'a>>,
    pub discovery_method: Option<DiscoveryMethod<'a>>,
}

/// One `<record>`: a source IP and identifiers with their message count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record<'a> {
    /// Canonical text of the address, or the value as sent if it is not an IP
    /// (then the report carries a warning).
    pub source_ip: Cow<'a, str>,
    pub count: u64,
    pub disposition: Option<Disposition<'a>>,
    pub dkim: Option<DmarcResult<'a>>,
    pub spf: Option<DmarcResult<'a>>,
    pub reasons: Vec<PolicyOverride<'a>>,
    pub header_from: Cow<'a, str>,
    pub envelope_from: Option<Cow<'a, str>>,
    pub envelope_to: Option<Cow<'a, str>>,
    pub dkim_results: AuthResults<DkimAuth<'a>>,
    pub spf_results: AuthResults<SpfAuth<'a>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension<'a>>,
    /// Who `source_ip` is, when enrichment is configured
    /// (`dmarcflow_enrich`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<Source>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyOverride<'a> {
    #[serde(rename = "type")]
    pub kind: Option<OverrideReason<'a>>,
    pub comment: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DkimAuth<'a> {
    pub domain: Cow<'a, str>,
    pub selector: Option<Cow<'a, str>>,
    pub result: DkimResult<'a>,
    pub human_result: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpfAuth<'a> {
    pub domain: Cow<'a, str>,
    pub scope: Option<SpfScope<'a>>,
    pub result: SpfResult<'a>,
    pub human_result: Option<Cow<'a, str>>,
}

/// An RFC 9990 `<extension>`, its XML kept as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension<'a> {
    pub name: Option<Cow<'a, str>>,
    pub definition: Option<Cow<'a, str>>,
    pub xml: Cow<'a, str>,
}

impl<'a> AggregateReport<'a> {
    /// An empty report, to be filled by a parser.
    pub fn empty() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            id: String::new(),
            version: None,
            namespace: None,
            metadata: ReportMetadata::default(),
            policy_published: PolicyPublished::default(),
            records: Vec::new(),
            extensions: Vec::new(),
            warnings: Warnings::default(),
            part: None,
        }
    }

    /// Reporter org + report id + policy domain + date range: two copies of
    /// one report (mailed to two rua addresses, fetched twice) share it.
    pub fn compute_id(metadata: &ReportMetadata<'_>, policy: &PolicyPublished<'_>) -> String {
        IdentityHasher::new("aggregate")
            .field(metadata.org_name.trim().as_bytes())
            .field(metadata.report_id.as_bytes())
            .field(policy.domain.trim().to_ascii_lowercase().as_bytes())
            .int(metadata.begin)
            .int(metadata.end)
            .finish()
    }

    /// Total messages over all records.
    /// Whether this is a whole report or the part holding its last record:
    /// the one that completes it.
    pub fn is_final(&self) -> bool {
        self.part
            .is_none_or(|p| p.first_record + self.records.len() as u64 >= p.total_records)
    }

    /// The index of this report's first record in the whole report.
    pub fn first_record(&self) -> u64 {
        self.part.map_or(0, |p| p.first_record)
    }

    /// Cuts the report into parts of consecutive records, each holding at
    /// most `max_records` records (a part is cut again the same way).
    pub fn split(self, max_records: usize) -> Vec<AggregateReport<'a>> {
        let max = max_records.max(1);
        if self.records.len() <= max {
            return vec![self];
        }
        let (total_records, total_messages) = match self.part {
            Some(p) => (p.total_records, p.total_messages),
            None => (self.records.len() as u64, self.message_count()),
        };
        let first = self.first_record();
        let mut header = self;
        let mut records = std::mem::take(&mut header.records).into_iter();
        let mut parts = Vec::new();
        let mut offset = first;
        loop {
            let chunk: Vec<Record<'a>> = records.by_ref().take(max).collect();
            if chunk.is_empty() {
                break;
            }
            let mut part = AggregateReport {
                records: Vec::new(),
                ..header.clone()
            };
            part.part = Some(Part {
                first_record: offset,
                total_records,
                total_messages,
            });
            offset += chunk.len() as u64;
            part.records = chunk;
            parts.push(part);
        }
        parts
    }

    pub fn message_count(&self) -> u64 {
        self.records.iter().map(|r| r.count).sum()
    }
}

impl AggregateReport<'_> {
    /// Detaches the report from the buffer it borrows.
    pub fn into_owned(self) -> AggregateReport<'static> {
        let m = self.metadata;
        let p = self.policy_published;
        AggregateReport {
            schema_version: self.schema_version,
            id: self.id,
            version: self.version.map(owned),
            namespace: self.namespace.map(owned),
            metadata: ReportMetadata {
                org_name: owned(m.org_name),
                email: owned(m.email),
                extra_contact_info: m.extra_contact_info.map(owned),
                report_id: owned(m.report_id),
                report_id_raw: m.report_id_raw.map(owned),
                begin: m.begin,
                end: m.end,
                errors: m.errors.into_iter().map(owned).collect(),
                generator: m.generator.map(owned),
            },
            policy_published: PolicyPublished {
                domain: owned(p.domain),
                version_published: p.version_published.map(owned),
                adkim: p.adkim.map(Alignment::into_owned),
                aspf: p.aspf.map(Alignment::into_owned),
                p: p.p.map(PolicyAction::into_owned),
                sp: p.sp.map(PolicyAction::into_owned),
                np: p.np.map(PolicyAction::into_owned),
                pct: p.pct,
                fo: p.fo.map(owned),
                testing: p.testing.map(Testing::into_owned),
                discovery_method: p.discovery_method.map(DiscoveryMethod::into_owned),
            },
            records: self.records.into_iter().map(Record::into_owned).collect(),
            extensions: self
                .extensions
                .into_iter()
                .map(|e| Extension {
                    name: e.name.map(owned),
                    definition: e.definition.map(owned),
                    xml: owned(e.xml),
                })
                .collect(),
            warnings: self.warnings,
            part: self.part,
        }
    }
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

impl Record<'_> {
    /// Detaches the record from the buffer it borrows.
    pub fn into_owned(self) -> Record<'static> {
        Record {
            source_ip: owned(self.source_ip),
            count: self.count,
            disposition: self.disposition.map(Disposition::into_owned),
            dkim: self.dkim.map(DmarcResult::into_owned),
            spf: self.spf.map(DmarcResult::into_owned),
            reasons: self
                .reasons
                .into_iter()
                .map(|r| PolicyOverride {
                    kind: r.kind.map(OverrideReason::into_owned),
                    comment: r.comment.map(owned),
                })
                .collect(),
            header_from: owned(self.header_from),
            envelope_from: self.envelope_from.map(owned),
            envelope_to: self.envelope_to.map(owned),
            dkim_results: self
                .dkim_results
                .into_iter()
                .map(|d| DkimAuth {
                    domain: owned(d.domain),
                    selector: d.selector.map(owned),
                    result: d.result.into_owned(),
                    human_result: d.human_result.map(owned),
                })
                .collect(),
            spf_results: self
                .spf_results
                .into_iter()
                .map(|d| SpfAuth {
                    domain: owned(d.domain),
                    scope: d.scope.map(SpfScope::into_owned),
                    result: d.result.into_owned(),
                    human_result: d.human_result.map(owned),
                })
                .collect(),
            extensions: self
                .extensions
                .into_iter()
                .map(|e| Extension {
                    name: e.name.map(owned),
                    definition: e.definition.map(owned),
                    xml: owned(e.xml),
                })
                .collect(),
            source: self.source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_cut_again_keep_their_place() {
        let mut r = AggregateReport::empty();
        r.records = (0..10)
            .map(|i| Record {
                count: i,
                ..Record::default()
            })
            .collect();
        let parts = r.split(4);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.iter().filter(|p| p.is_final()).count(), 1);
        let again: Vec<_> = parts.into_iter().flat_map(|p| p.split(3)).collect();
        let places: Vec<(u64, usize, bool)> = again
            .iter()
            .map(|p| (p.first_record(), p.records.len(), p.is_final()))
            .collect();
        assert_eq!(
            places,
            [
                (0, 3, false),
                (3, 1, false),
                (4, 3, false),
                (7, 1, false),
                (8, 2, true)
            ]
        );
        assert!(again
            .iter()
            .all(|p| p.part.is_some_and(|x| x.total_messages == 45)));
    }
}
