//! The element names of aggregate reports (RFC 7489 appendix C, RFC 9990).

/// A known element, by local name (namespace prefixes are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Feedback,
    Version,
    ReportMetadata,
    OrgName,
    Email,
    ExtraContactInfo,
    ReportId,
    DateRange,
    Begin,
    End,
    Error,
    Generator,
    PolicyPublished,
    Domain,
    VersionPublished,
    Adkim,
    Aspf,
    P,
    Sp,
    Np,
    Pct,
    Fo,
    Testing,
    DiscoveryMethod,
    Record,
    Row,
    SourceIp,
    Count,
    PolicyEvaluated,
    Disposition,
    Dkim,
    Spf,
    Reason,
    Type,
    Comment,
    Identifiers,
    HeaderFrom,
    EnvelopeFrom,
    EnvelopeTo,
    AuthResults,
    Selector,
    Result,
    HumanResult,
    Scope,
    Extensions,
    Extension,
    /// Anything else: skipped, noted once as a warning.
    Unknown,
    /// Above the root.
    Document,
}

impl Tag {
    pub(crate) fn from_local_name(name: &str) -> Tag {
        match name {
            "feedback" => Tag::Feedback,
            "version" => Tag::Version,
            "report_metadata" => Tag::ReportMetadata,
            "org_name" => Tag::OrgName,
            "email" => Tag::Email,
            "extra_contact_info" => Tag::ExtraContactInfo,
            "report_id" => Tag::ReportId,
            "date_range" => Tag::DateRange,
            "begin" => Tag::Begin,
            "end" => Tag::End,
            "error" => Tag::Error,
            "generator" => Tag::Generator,
            "policy_published" => Tag::PolicyPublished,
            "domain" => Tag::Domain,
            "version_published" => Tag::VersionPublished,
            "adkim" => Tag::Adkim,
            "aspf" => Tag::Aspf,
            "p" => Tag::P,
            "sp" => Tag::Sp,
            "np" => Tag::Np,
            "pct" => Tag::Pct,
            "fo" => Tag::Fo,
            "testing" => Tag::Testing,
            "discovery_method" => Tag::DiscoveryMethod,
            "record" => Tag::Record,
            "row" => Tag::Row,
            "source_ip" => Tag::SourceIp,
            "count" => Tag::Count,
            "policy_evaluated" => Tag::PolicyEvaluated,
            "disposition" => Tag::Disposition,
            "dkim" => Tag::Dkim,
            "spf" => Tag::Spf,
            "reason" => Tag::Reason,
            "type" => Tag::Type,
            "comment" => Tag::Comment,
            "identifiers" => Tag::Identifiers,
            "header_from" => Tag::HeaderFrom,
            "envelope_from" => Tag::EnvelopeFrom,
            "envelope_to" => Tag::EnvelopeTo,
            "auth_results" => Tag::AuthResults,
            "selector" => Tag::Selector,
            "result" => Tag::Result,
            "human_result" => Tag::HumanResult,
            "scope" => Tag::Scope,
            "extensions" => Tag::Extensions,
            "extension" => Tag::Extension,
            _ => Tag::Unknown,
        }
    }

    /// Whether the element holds a value rather than other elements.
    pub(crate) fn is_leaf(self, parent: Tag) -> bool {
        match self {
            Tag::Dkim | Tag::Spf => parent == Tag::PolicyEvaluated,
            Tag::Feedback
            | Tag::ReportMetadata
            | Tag::DateRange
            | Tag::PolicyPublished
            | Tag::Record
            | Tag::Row
            | Tag::PolicyEvaluated
            | Tag::Reason
            | Tag::Identifiers
            | Tag::AuthResults
            | Tag::Extensions
            | Tag::Extension
            | Tag::Unknown
            | Tag::Document => false,
            _ => true,
        }
    }
}
