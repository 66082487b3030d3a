//! Reports to ClickHouse rows (RowBinary via the `clickhouse` crate's
//! `Row`): one struct per table, borrowing from the report. Enumerations go
//! as their `Enum8` numbers (`TextEnum::code`, checked against the DDL by a
//! test); a value the sender made up goes as `other` and verbatim into
//! `other_values` as `field=value`.

use clickhouse::Row;
use dmarcflow_schemas::aggregate::{AggregateReport, Record};
use dmarcflow_schemas::failure::{FailureReport, SampleKind};
use dmarcflow_schemas::tlsrpt::TlsReport;
use dmarcflow_schemas::ReporterAuth;
use serde::Serialize;

use crate::values::{datetime, failure_arrival, ip_columns, ReporterColumns, SourceColumns};

#[derive(Debug, Row, Serialize)]
pub struct AggregateReportRow<'a> {
    pub report_id: &'a str,
    pub org_name: &'a str,
    pub org_email: &'a str,
    pub extra_contact_info: &'a str,
    pub reporter_report_id: &'a str,
    pub reporter_report_id_raw: &'a str,
    pub date_begin: u32,
    pub date_end: u32,
    pub policy_domain: &'a str,
    pub version: &'a str,
    pub namespace: &'a str,
    pub generator: &'a str,
    pub adkim: i8,
    pub aspf: i8,
    pub p: i8,
    pub sp: i8,
    pub np: i8,
    pub pct: Option<u8>,
    pub fo: &'a str,
    pub testing: i8,
    pub discovery_method: i8,
    pub record_count: u64,
    pub message_count: u64,
    pub errors: Vec<&'a str>,
    pub warnings: Vec<&'a str>,
    pub extensions: String,
    pub other_values: Vec<String>,
    pub schema_version: u16,
    pub origin: &'a str,
    pub ingested_at: u32,
    pub reporter_auth: &'a str,
    pub reporter_dkim: &'a str,
    pub reporter_dkim_domain: &'a str,
    pub reporter_spf: &'a str,
    pub reporter_authenticated: u8,
}

#[derive(Debug, Row, Serialize)]
pub struct AggregateRecordRow<'a> {
    pub report_id: &'a str,
    pub record_index: u32,
    pub org_name: &'a str,
    pub date_begin: u32,
    pub date_end: u32,
    pub policy_domain: &'a str,
    pub source_ip: [u8; 16],
    pub source_ip_text: &'a str,
    pub message_count: u64,
    pub disposition: i8,
    pub dkim: i8,
    pub spf: i8,
    pub reason_types: Vec<&'a str>,
    pub reason_comments: Vec<&'a str>,
    pub header_from: &'a str,
    pub envelope_from: &'a str,
    pub envelope_to: &'a str,
    pub dkim_domains: Vec<&'a str>,
    pub dkim_selectors: Vec<&'a str>,
    pub dkim_results: Vec<i8>,
    pub dkim_human_results: Vec<&'a str>,
    pub spf_domains: Vec<&'a str>,
    pub spf_scopes: Vec<i8>,
    pub spf_results: Vec<i8>,
    pub spf_human_results: Vec<&'a str>,
    pub other_values: Vec<String>,
    pub source_ptr: &'a str,
    pub source_ptr_confirmed: u8,
    pub source_base_domain: &'a str,
    pub source_name: &'a str,
    pub source_type: &'a str,
    pub source_asn: u32,
    pub source_as_name: &'a str,
    pub source_as_domain: &'a str,
    pub source_country: &'a str,
    pub source_lookup_failed: u8,
    pub source_identified_by: &'a str,
}

#[derive(Debug, Row, Serialize)]
pub struct FailureReportRow<'a> {
    pub report_id: &'a str,
    pub arrival_date: u32,
    pub reported_domain: &'a str,
    pub reported_domains: Vec<&'a str>,
    pub feedback_type: i8,
    pub user_agent: &'a str,
    pub version: &'a str,
    pub source_ip: [u8; 16],
    pub source_ip_text: &'a str,
    pub original_mail_from: &'a str,
    pub original_rcpt_to: Vec<&'a str>,
    pub original_envelope_id: &'a str,
    pub reporting_mta: &'a str,
    pub incidents: u64,
    pub authentication_results: Vec<&'a str>,
    pub auth_failure: Vec<&'a str>,
    pub delivery_result: &'a str,
    pub dkim_domain: &'a str,
    pub dkim_selector: &'a str,
    pub dkim_identity: &'a str,
    pub spf_dns: &'a str,
    pub identity_alignment: Vec<&'a str>,
    pub original_from: &'a str,
    pub original_to: &'a str,
    pub original_subject: &'a str,
    pub original_message_id: &'a str,
    pub report_subject: &'a str,
    pub sample_kind: i8,
    pub sample: &'a str,
    pub warnings: Vec<&'a str>,
    pub other_values: Vec<String>,
    pub schema_version: u16,
    pub origin: &'a str,
    pub ingested_at: u32,
    pub source_ptr: &'a str,
    pub source_ptr_confirmed: u8,
    pub source_base_domain: &'a str,
    pub source_name: &'a str,
    pub source_type: &'a str,
    pub source_asn: u32,
    pub source_as_name: &'a str,
    pub source_as_domain: &'a str,
    pub source_country: &'a str,
    pub source_lookup_failed: u8,
    pub source_identified_by: &'a str,
    pub reporter_auth: &'a str,
    pub reporter_dkim: &'a str,
    pub reporter_dkim_domain: &'a str,
    pub reporter_spf: &'a str,
    pub reporter_authenticated: u8,
    pub personal: &'a str,
    pub sealed: &'a str,
}

#[derive(Debug, Row, Serialize)]
pub struct TlsReportRow<'a> {
    pub report_id: &'a str,
    pub organization_name: &'a str,
    pub contact_info: &'a str,
    pub reporter_report_id: &'a str,
    pub date_begin: u32,
    pub date_end: u32,
    pub policy_count: u32,
    pub successful_sessions: u64,
    pub failed_sessions: u64,
    pub warnings: Vec<&'a str>,
    pub schema_version: u16,
    pub origin: &'a str,
    pub ingested_at: u32,
    pub reporter_auth: &'a str,
    pub reporter_dkim: &'a str,
    pub reporter_dkim_domain: &'a str,
    pub reporter_spf: &'a str,
    pub reporter_authenticated: u8,
}

#[derive(Debug, Row, Serialize)]
pub struct TlsPolicyRow<'a> {
    pub report_id: &'a str,
    pub policy_index: u32,
    pub organization_name: &'a str,
    pub date_begin: u32,
    pub date_end: u32,
    pub policy_type: i8,
    pub policy_domain: &'a str,
    pub policy_string: Vec<&'a str>,
    pub mx_host: Vec<&'a str>,
    pub successful_sessions: u64,
    pub failed_sessions: u64,
    pub other_values: Vec<String>,
}

#[derive(Debug, Row, Serialize)]
pub struct TlsFailureRow<'a> {
    pub report_id: &'a str,
    pub policy_index: u32,
    pub detail_index: u32,
    pub organization_name: &'a str,
    pub date_begin: u32,
    pub policy_type: i8,
    pub policy_domain: &'a str,
    pub result_type: i8,
    pub result_type_text: &'a str,
    pub sending_mta_ip: [u8; 16],
    pub sending_mta_ip_text: &'a str,
    pub receiving_mx_hostname: &'a str,
    pub receiving_mx_helo: &'a str,
    pub receiving_ip: [u8; 16],
    pub receiving_ip_text: &'a str,
    pub failed_sessions: u64,
    pub additional_information: &'a str,
    pub failure_reason_code: &'a str,
    pub sending_mta_ptr: &'a str,
    pub sending_mta_name: &'a str,
    pub sending_mta_asn: u32,
    pub sending_mta_as_name: &'a str,
    pub sending_mta_country: &'a str,
    pub receiving_ptr: &'a str,
    pub receiving_name: &'a str,
    pub receiving_asn: u32,
    pub receiving_as_name: &'a str,
    pub receiving_country: &'a str,
}

/// Ingest metadata stored with every report header row.
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    pub origin: &'a str,
    pub ingested_at: i64,
    pub reporter: Option<&'a ReporterAuth>,
}

/// An optional enum: its code, 0 when absent; unknown values noted.
macro_rules! code {
    ($value:expr, $field:literal, $other:expr) => {
        match &$value {
            None => 0,
            Some(v) => {
                if v.code() as usize > v.known_len() {
                    $other.push(format!(concat!($field, "={}"), v.as_str()));
                }
                v.code()
            }
        }
    };
}

/// `KNOWN.len()` through a value, for the macro above.
trait KnownLen {
    fn known_len(&self) -> usize;
}

macro_rules! known_len {
    ($($t:ty),*) => {$(
        impl KnownLen for $t {
            fn known_len(&self) -> usize {
                Self::KNOWN.len()
            }
        }
    )*};
}

use dmarcflow_schemas::aggregate::{
    Alignment, DiscoveryMethod, Disposition, DkimResult, DmarcResult, PolicyAction, SpfResult,
    SpfScope, Testing,
};
use dmarcflow_schemas::failure::FeedbackType;
use dmarcflow_schemas::tlsrpt::{PolicyType, ResultType};
known_len!(
    Alignment<'_>,
    DiscoveryMethod<'_>,
    Disposition<'_>,
    DkimResult<'_>,
    DmarcResult<'_>,
    PolicyAction<'_>,
    SpfResult<'_>,
    SpfScope<'_>,
    Testing<'_>,
    FeedbackType<'_>,
    PolicyType<'_>,
    ResultType<'_>
);

pub fn aggregate_report<'a>(r: &'a AggregateReport<'_>, meta: Meta<'a>) -> AggregateReportRow<'a> {
    let m = &r.metadata;
    let p = &r.policy_published;
    let mut other = Vec::new();
    let auth = ReporterColumns::of(meta.reporter);
    let (record_count, message_count) = match r.part {
        Some(part) => (part.total_records, part.total_messages),
        None => (r.records.len() as u64, r.message_count()),
    };
    AggregateReportRow {
        report_id: &r.id,
        org_name: &m.org_name,
        org_email: &m.email,
        extra_contact_info: m.extra_contact_info.as_deref().unwrap_or(""),
        reporter_report_id: &m.report_id,
        reporter_report_id_raw: m.report_id_raw.as_deref().unwrap_or(""),
        date_begin: datetime(m.begin),
        date_end: datetime(m.end),
        policy_domain: &p.domain,
        version: r.version.as_deref().unwrap_or(""),
        namespace: r.namespace.as_deref().unwrap_or(""),
        generator: m.generator.as_deref().unwrap_or(""),
        adkim: code!(p.adkim, "adkim", other),
        aspf: code!(p.aspf, "aspf", other),
        p: code!(p.p, "p", other),
        sp: code!(p.sp, "sp", other),
        np: code!(p.np, "np", other),
        pct: p.pct.map(|v| u8::try_from(v).unwrap_or(u8::MAX)),
        fo: p.fo.as_deref().unwrap_or(""),
        testing: code!(p.testing, "testing", other),
        discovery_method: code!(p.discovery_method, "discovery_method", other),
        record_count,
        message_count,
        errors: m.errors.iter().map(|e| e.as_ref()).collect(),
        warnings: r.warnings.iter().collect(),
        extensions: if r.extensions.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&r.extensions).unwrap_or_default()
        },
        other_values: other,
        schema_version: u16::try_from(r.schema_version).unwrap_or(u16::MAX),
        origin: meta.origin,
        ingested_at: datetime(meta.ingested_at),
        reporter_auth: auth.auth,
        reporter_dkim: auth.dkim,
        reporter_dkim_domain: auth.dkim_domain,
        reporter_spf: auth.spf,
        reporter_authenticated: auth.authenticated,
    }
}

pub fn aggregate_record<'a>(
    r: &'a AggregateReport<'_>,
    index: u64,
    rec: &'a Record<'_>,
) -> AggregateRecordRow<'a> {
    let mut other = Vec::new();
    let (source_ip, source_ip_text) = ip_columns(Some(&rec.source_ip));
    let source = SourceColumns::of(rec.source.as_deref());
    let dkim_results = rec
        .dkim_results
        .iter()
        .map(|d| code!(Some(&d.result), "dkim_result", other))
        .collect();
    let spf_scopes = rec
        .spf_results
        .iter()
        .map(|s| code!(s.scope, "spf_scope", other))
        .collect();
    let spf_results = rec
        .spf_results
        .iter()
        .map(|s| code!(Some(&s.result), "spf_result", other))
        .collect();
    AggregateRecordRow {
        report_id: &r.id,
        record_index: u32::try_from(index).unwrap_or(u32::MAX),
        org_name: &r.metadata.org_name,
        date_begin: datetime(r.metadata.begin),
        date_end: datetime(r.metadata.end),
        policy_domain: &r.policy_published.domain,
        source_ip,
        source_ip_text,
        message_count: rec.count,
        disposition: code!(rec.disposition, "disposition", other),
        dkim: code!(rec.dkim, "dkim", other),
        spf: code!(rec.spf, "spf", other),
        reason_types: rec
            .reasons
            .iter()
            .map(|o| o.kind.as_ref().map_or("", |k| k.as_str()))
            .collect(),
        reason_comments: rec
            .reasons
            .iter()
            .map(|o| o.comment.as_deref().unwrap_or(""))
            .collect(),
        header_from: &rec.header_from,
        envelope_from: rec.envelope_from.as_deref().unwrap_or(""),
        envelope_to: rec.envelope_to.as_deref().unwrap_or(""),
        dkim_domains: rec.dkim_results.iter().map(|d| d.domain.as_ref()).collect(),
        dkim_selectors: rec
            .dkim_results
            .iter()
            .map(|d| d.selector.as_deref().unwrap_or(""))
            .collect(),
        dkim_results,
        dkim_human_results: rec
            .dkim_results
            .iter()
            .map(|d| d.human_result.as_deref().unwrap_or(""))
            .collect(),
        spf_domains: rec.spf_results.iter().map(|s| s.domain.as_ref()).collect(),
        spf_scopes,
        spf_results,
        spf_human_results: rec
            .spf_results
            .iter()
            .map(|s| s.human_result.as_deref().unwrap_or(""))
            .collect(),
        other_values: other,
        source_ptr: source.ptr,
        source_ptr_confirmed: source.ptr_confirmed,
        source_base_domain: source.base_domain,
        source_name: source.name,
        source_type: source.kind,
        source_asn: source.asn,
        source_as_name: source.as_name,
        source_as_domain: source.as_domain,
        source_country: source.country,
        source_lookup_failed: source.lookup_failed,
        source_identified_by: source.identified_by,
    }
}

pub fn sample_kind_code(kind: SampleKind) -> i8 {
    match kind {
        SampleKind::None => 0,
        SampleKind::Message => 1,
        SampleKind::Headers => 2,
        SampleKind::Text => 3,
    }
}

pub fn failure_report<'a>(r: &'a FailureReport<'_>, meta: Meta<'a>) -> FailureReportRow<'a> {
    let mut other = Vec::new();
    let (source_ip, source_ip_text) = ip_columns(r.source_ip.as_deref());
    let source = SourceColumns::of(r.source.as_deref());
    let auth = ReporterColumns::of(meta.reporter);
    let feedback_type = code!(Some(&r.feedback_type), "feedback_type", other);
    FailureReportRow {
        report_id: &r.id,
        arrival_date: datetime(failure_arrival(r, meta.ingested_at)),
        reported_domain: r.reported_domain.first().map_or("", |d| d.as_ref()),
        reported_domains: r.reported_domain.iter().map(|d| d.as_ref()).collect(),
        feedback_type,
        user_agent: r.user_agent.as_deref().unwrap_or(""),
        version: r.version.as_deref().unwrap_or(""),
        source_ip,
        source_ip_text,
        original_mail_from: r.original_mail_from.as_deref().unwrap_or(""),
        original_rcpt_to: r.original_rcpt_to.iter().map(|d| d.as_ref()).collect(),
        original_envelope_id: r.original_envelope_id.as_deref().unwrap_or(""),
        reporting_mta: r.reporting_mta.as_deref().unwrap_or(""),
        incidents: r.incidents.unwrap_or(1),
        authentication_results: r
            .authentication_results
            .iter()
            .map(|d| d.as_ref())
            .collect(),
        auth_failure: r.auth_failure.iter().map(|a| a.as_str()).collect(),
        delivery_result: r.delivery_result.as_ref().map_or("", |d| d.as_str()),
        dkim_domain: r.dkim_domain.as_deref().unwrap_or(""),
        dkim_selector: r.dkim_selector.as_deref().unwrap_or(""),
        dkim_identity: r.dkim_identity.as_deref().unwrap_or(""),
        spf_dns: r.spf_dns.as_deref().unwrap_or(""),
        identity_alignment: r.identity_alignment.iter().map(|a| a.as_str()).collect(),
        original_from: r.original_from.as_deref().unwrap_or(""),
        original_to: r.original_to.as_deref().unwrap_or(""),
        original_subject: r.original_subject.as_deref().unwrap_or(""),
        original_message_id: r.original_message_id.as_deref().unwrap_or(""),
        report_subject: r.report_subject.as_deref().unwrap_or(""),
        sample_kind: sample_kind_code(r.sample_kind),
        sample: r.sample.as_deref().unwrap_or(""),
        warnings: r.warnings.iter().collect(),
        other_values: other,
        schema_version: u16::try_from(r.schema_version).unwrap_or(u16::MAX),
        origin: meta.origin,
        ingested_at: datetime(meta.ingested_at),
        source_ptr: source.ptr,
        source_ptr_confirmed: source.ptr_confirmed,
        source_base_domain: source.base_domain,
        source_name: source.name,
        source_type: source.kind,
        source_asn: source.asn,
        source_as_name: source.as_name,
        source_as_domain: source.as_domain,
        source_country: source.country,
        source_lookup_failed: source.lookup_failed,
        source_identified_by: source.identified_by,
        reporter_auth: auth.auth,
        reporter_dkim: auth.dkim,
        reporter_dkim_domain: auth.dkim_domain,
        reporter_spf: auth.spf,
        reporter_authenticated: auth.authenticated,
        personal: r.personal.as_str(),
        sealed: r.sealed.as_deref().unwrap_or(""),
    }
}

pub fn tls_report<'a>(r: &'a TlsReport<'_>, meta: Meta<'a>) -> TlsReportRow<'a> {
    let (ok, failed) = r.session_totals();
    let auth = ReporterColumns::of(meta.reporter);
    TlsReportRow {
        report_id: &r.id,
        organization_name: &r.organization_name,
        contact_info: r.contact_info.as_deref().unwrap_or(""),
        reporter_report_id: &r.report_id,
        date_begin: datetime(r.begin),
        date_end: datetime(r.end),
        policy_count: u32::try_from(r.policies.len()).unwrap_or(u32::MAX),
        successful_sessions: ok,
        failed_sessions: failed,
        warnings: r.warnings.iter().collect(),
        schema_version: u16::try_from(r.schema_version).unwrap_or(u16::MAX),
        origin: meta.origin,
        ingested_at: datetime(meta.ingested_at),
        reporter_auth: auth.auth,
        reporter_dkim: auth.dkim,
        reporter_dkim_domain: auth.dkim_domain,
        reporter_spf: auth.spf,
        reporter_authenticated: auth.authenticated,
    }
}

pub fn tls_policies<'a>(r: &'a TlsReport<'_>) -> Vec<TlsPolicyRow<'a>> {
    r.policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut other = Vec::new();
            TlsPolicyRow {
                report_id: &r.id,
                policy_index: i as u32,
                organization_name: &r.organization_name,
                date_begin: datetime(r.begin),
                date_end: datetime(r.end),
                policy_type: code!(Some(&p.policy_type), "policy_type", other),
                policy_domain: &p.policy_domain,
                policy_string: p.policy_string.iter().map(|s| s.as_ref()).collect(),
                mx_host: p.mx_host.iter().map(|s| s.as_ref()).collect(),
                successful_sessions: p.total_successful_session_count,
                failed_sessions: p.total_failure_session_count,
                other_values: other,
            }
        })
        .collect()
}

pub fn tls_failures<'a>(r: &'a TlsReport<'_>) -> Vec<TlsFailureRow<'a>> {
    let mut rows = Vec::new();
    for (i, p) in r.policies.iter().enumerate() {
        for (j, d) in p.failure_details.iter().enumerate() {
            let (sending_mta_ip, sending_mta_ip_text) = ip_columns(d.sending_mta_ip.as_deref());
            let (receiving_ip, receiving_ip_text) = ip_columns(d.receiving_ip.as_deref());
            let unknown = d.result_type.code() as usize > ResultType::KNOWN.len();
            let sending = SourceColumns::of(d.sending_mta_source.as_deref());
            let receiving = SourceColumns::of(d.receiving_source.as_deref());
            rows.push(TlsFailureRow {
                report_id: &r.id,
                policy_index: i as u32,
                detail_index: j as u32,
                organization_name: &r.organization_name,
                date_begin: datetime(r.begin),
                policy_type: p.policy_type.code(),
                policy_domain: &p.policy_domain,
                result_type: d.result_type.code(),
                result_type_text: if unknown { d.result_type.as_str() } else { "" },
                sending_mta_ip,
                sending_mta_ip_text,
                receiving_mx_hostname: d.receiving_mx_hostname.as_deref().unwrap_or(""),
                receiving_mx_helo: d.receiving_mx_helo.as_deref().unwrap_or(""),
                receiving_ip,
                receiving_ip_text,
                failed_sessions: d.failed_session_count,
                additional_information: d.additional_information.as_deref().unwrap_or(""),
                failure_reason_code: d.failure_reason_code.as_deref().unwrap_or(""),
                sending_mta_ptr: sending.ptr,
                sending_mta_name: sending.name,
                sending_mta_asn: sending.asn,
                sending_mta_as_name: sending.as_name,
                sending_mta_country: sending.country,
                receiving_ptr: receiving.ptr,
                receiving_name: receiving.name,
                receiving_asn: receiving.asn,
                receiving_as_name: receiving.as_name,
                receiving_country: receiving.country,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use dmarcflow_schemas::ddl::CLICKHOUSE;

    /// The Enum8 values a column declares, in code order, from the DDL.
    fn declared(table: &str, column: &str) -> Vec<String> {
        let sql: String = CLICKHOUSE.iter().map(|m| m.sql).collect();
        let start = sql
            .find(&format!("CREATE TABLE IF NOT EXISTS {table}\n"))
            .unwrap_or_else(|| panic!("no table {table}"));
        let body = &sql[start..];
        let at = body
            .find(&format!("\n    {column} "))
            .unwrap_or_else(|| panic!("no column {table}.{column}"));
        let line = body[at..].trim_start().lines().next().unwrap_or_default();
        let list = &line[line.find("Enum8(").unwrap_or_else(|| panic!("{line}")) + 6..];
        let mut out = Vec::new();
        let mut expected_code = None;
        for item in list.split(", ") {
            let (name, code) = item.split_once(" = ").unwrap_or_else(|| panic!("{item}"));
            let code: i8 = code
                .trim_end_matches([')', ','])
                .parse()
                .unwrap_or_else(|e| panic!("{item}: {e}"));
            // '' (absent) is 0; the first known value is 1 (TextEnum::code).
            let want = expected_code.unwrap_or(if name == "''" { 0 } else { 1 });
            assert_eq!(
                code, want,
                "{table}.{column}: codes must follow TextEnum::code"
            );
            expected_code = Some(code + 1);
            out.push(name.trim_matches('\'').to_owned());
        }
        out
    }

    fn expect(table: &str, column: &str, absent: bool, known: &[&str], unknown: &str) {
        let mut want: Vec<String> = Vec::new();
        if absent {
            want.push(String::new());
        }
        want.extend(known.iter().map(|s| s.to_string()));
        want.push(unknown.to_owned());
        assert_eq!(declared(table, column), want, "{table}.{column}");
    }

    #[test]
    fn enum_columns_match_the_codes() {
        use dmarcflow_schemas::aggregate::*;
        use dmarcflow_schemas::failure::FeedbackType;
        use dmarcflow_schemas::tlsrpt::{PolicyType, ResultType};
        for c in ["adkim", "aspf"] {
            expect("aggregate_reports", c, true, Alignment::KNOWN, "other");
        }
        for c in ["p", "sp", "np"] {
            expect("aggregate_reports", c, true, PolicyAction::KNOWN, "other");
        }
        expect(
            "aggregate_reports",
            "testing",
            true,
            Testing::KNOWN,
            "other",
        );
        expect(
            "aggregate_reports",
            "discovery_method",
            true,
            DiscoveryMethod::KNOWN,
            "other",
        );
        expect(
            "aggregate_records",
            "disposition",
            true,
            Disposition::KNOWN,
            "other",
        );
        expect(
            "aggregate_records",
            "dkim",
            true,
            DmarcResult::KNOWN,
            "other",
        );
        expect(
            "aggregate_records",
            "spf",
            true,
            DmarcResult::KNOWN,
            "other",
        );
        expect(
            "aggregate_records",
            "dkim_results",
            true,
            DkimResult::KNOWN,
            "other",
        );
        expect(
            "aggregate_records",
            "spf_results",
            true,
            SpfResult::KNOWN,
            "other",
        );
        expect(
            "aggregate_records",
            "spf_scopes",
            true,
            SpfScope::KNOWN,
            "other",
        );
        expect(
            "aggregate_by_result_daily",
            "disposition",
            true,
            Disposition::KNOWN,
            "other",
        );
        expect(
            "failure_reports",
            "feedback_type",
            false,
            FeedbackType::KNOWN,
            "unknown",
        );
        expect(
            "tlsrpt_policies",
            "policy_type",
            false,
            PolicyType::KNOWN,
            "other",
        );
        expect(
            "tlsrpt_failures",
            "policy_type",
            false,
            PolicyType::KNOWN,
            "other",
        );
        expect(
            "tlsrpt_failures",
            "result_type",
            false,
            ResultType::KNOWN,
            "other",
        );
        assert_eq!(Disposition::Other("x".into()).code(), 5);
        assert_eq!(FeedbackType::Other("x".into()).code(), 8);
    }
}
