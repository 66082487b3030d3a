//! A batch into SQLite: one transaction; `INSERT OR IGNORE` on the unique
//! keys (report id; report id + record/policy/detail index) so a replayed
//! report or part inserts nothing, and the aggregation triggers (which fire
//! only for rows actually inserted) count nothing twice.

use dmarcflow_schemas::aggregate::AggregateReport;
use dmarcflow_schemas::failure::FailureReport;
use dmarcflow_schemas::tlsrpt::TlsReport;
use dmarcflow_schemas::{Ingested, Report, TextEnum};
use rusqlite::{Connection, Transaction};

use super::row::{Meta, Row};
use crate::values::failure_arrival;
use crate::values::{json_array, ReporterColumns, SourceColumns};
use crate::{StoreError, WriteSummary};
use dmarcflow_lease::Lease;

pub fn write(
    conn: &mut Connection,
    batch: &[Ingested<'_>],
    lease: &Lease,
) -> Result<WriteSummary, StoreError> {
    let tx = conn.transaction()?;
    let mut summary = WriteSummary::default();
    for item in batch {
        let meta = Meta {
            origin: &item.origin,
            received_at: item.received_at,
            auth: ReporterColumns::of(item.reporter.as_ref()),
        };
        match &item.report {
            Report::Aggregate(r) => aggregate(&tx, r, &meta, &mut summary)?,
            Report::Failure(r) => failure(&tx, r, &meta, &mut summary)?,
            Report::Tlsrpt(r) => tlsrpt(&tx, r, &meta, &mut summary)?,
        }
    }
    // A transaction is all or nothing: the lease is checked once, last.
    lease.check()?;
    tx.commit()?;
    Ok(summary)
}

fn text<T: AsRef<str>>(value: &Option<T>) -> &str {
    value.as_ref().map_or("", AsRef::as_ref)
}

/// A typed value's name (`pass`, `reject`, ...), '' when absent.
fn name<'a, T: TextEnum<'a>>(value: &Option<T>) -> &str {
    value.as_ref().map_or("", TextEnum::text)
}

fn aggregate(
    tx: &Transaction<'_>,
    r: &AggregateReport<'_>,
    meta: &Meta<'_>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let complete: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM aggregate_reports WHERE report_id = ?1)")?
        .query_row([&r.id], |row| row.get(0))?;
    if complete {
        summary.duplicates += 1;
        return Ok(());
    }
    records(tx, r, summary)?;
    if !r.is_final() {
        return Ok(());
    }
    let m = &r.metadata;
    let p = &r.policy_published;
    let (record_count, message_count) = match r.part {
        Some(part) => (part.total_records, part.total_messages),
        None => (r.records.len() as u64, r.message_count()),
    };
    let extensions = if r.extensions.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&r.extensions).unwrap_or_default()
    };
    let inserted = Row::new()
        .with("report_id", &r.id)
        .with("org_name", &m.org_name)
        .with("org_email", &m.email)
        .with("extra_contact_info", &text(&m.extra_contact_info))
        .with("reporter_report_id", &m.report_id)
        .with("reporter_report_id_raw", &text(&m.report_id_raw))
        .with("date_begin", &m.begin)
        .with("date_end", &m.end)
        .with("policy_domain", &p.domain)
        .with("version", &text(&r.version))
        .with("namespace", &text(&r.namespace))
        .with("generator", &text(&m.generator))
        .with("adkim", &name(&p.adkim))
        .with("aspf", &name(&p.aspf))
        .with("p", &name(&p.p))
        .with("sp", &name(&p.sp))
        .with("np", &name(&p.np))
        .with("pct", &p.pct)
        .with("fo", &text(&p.fo))
        .with("testing", &name(&p.testing))
        .with("discovery_method", &name(&p.discovery_method))
        .with("record_count", &record_count)
        .with("message_count", &message_count)
        .with("errors", &json_array(&m.errors))
        .with("warnings", &json_array(r.warnings.iter()))
        .with("extensions", &extensions)
        .with("schema_version", &r.schema_version)
        .ingest(meta)
        .insert(tx, "aggregate_reports")?;
    summary.rows += inserted as u64;
    summary.reports += inserted as u64;
    Ok(())
}

/// A report's (or part's) records, each once (`INSERT OR IGNORE` on the
/// report id and record index).
fn records(
    tx: &Transaction<'_>,
    r: &AggregateReport<'_>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let m = &r.metadata;
    let p = &r.policy_published;
    let first = r.first_record();
    let mut sql = String::new();
    for (i, rec) in r.records.iter().enumerate() {
        let source = SourceColumns::of(rec.source.as_deref());
        let opt = |v: Option<&str>| v.unwrap_or("").to_owned();
        summary.rows += Row::new()
            .with("report_id", &r.id)
            .with("record_index", &(first + i as u64))
            .with("org_name", &m.org_name)
            .with("date_begin", &m.begin)
            .with("date_end", &m.end)
            .with("policy_domain", &p.domain)
            .with("source_ip", &rec.source_ip)
            .with("message_count", &rec.count)
            .with("disposition", &name(&rec.disposition))
            .with("dkim", &name(&rec.dkim))
            .with("spf", &name(&rec.spf))
            .with(
                "reason_types",
                &json_array(rec.reasons.iter().map(|o| name(&o.kind))),
            )
            .with(
                "reason_comments",
                &json_array(rec.reasons.iter().map(|o| opt(o.comment.as_deref()))),
            )
            .with("header_from", &rec.header_from)
            .with("envelope_from", &text(&rec.envelope_from))
            .with("envelope_to", &text(&rec.envelope_to))
            .with(
                "dkim_domains",
                &json_array(rec.dkim_results.iter().map(|d| &d.domain)),
            )
            .with(
                "dkim_selectors",
                &json_array(rec.dkim_results.iter().map(|d| opt(d.selector.as_deref()))),
            )
            .with(
                "dkim_results",
                &json_array(rec.dkim_results.iter().map(|d| d.result.as_str())),
            )
            .with(
                "dkim_human_results",
                &json_array(
                    rec.dkim_results
                        .iter()
                        .map(|d| opt(d.human_result.as_deref())),
                ),
            )
            .with(
                "spf_domains",
                &json_array(rec.spf_results.iter().map(|s| &s.domain)),
            )
            .with(
                "spf_scopes",
                &json_array(rec.spf_results.iter().map(|s| name(&s.scope))),
            )
            .with(
                "spf_results",
                &json_array(rec.spf_results.iter().map(|s| s.result.as_str())),
            )
            .with(
                "spf_human_results",
                &json_array(
                    rec.spf_results
                        .iter()
                        .map(|s| opt(s.human_result.as_deref())),
                ),
            )
            .source(&source)
            .insert_as(tx, "aggregate_records", &mut sql)? as u64;
    }
    Ok(())
}

fn failure(
    tx: &Transaction<'_>,
    r: &FailureReport<'_>,
    meta: &Meta<'_>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let source = SourceColumns::of(r.source.as_deref());
    let sample_kind = serde_json::to_value(r.sample_kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let inserted = Row::new()
        .with("report_id", &r.id)
        .with("arrival_date", &failure_arrival(r, meta.received_at))
        .with(
            "reported_domain",
            &r.reported_domain.first().map_or("", |d| d.as_ref()),
        )
        .with("reported_domains", &json_array(&r.reported_domain))
        .with("feedback_type", &r.feedback_type.as_str())
        .with("user_agent", &text(&r.user_agent))
        .with("version", &text(&r.version))
        .with("source_ip", &text(&r.source_ip))
        .with("original_mail_from", &text(&r.original_mail_from))
        .with("original_rcpt_to", &json_array(&r.original_rcpt_to))
        .with("original_envelope_id", &text(&r.original_envelope_id))
        .with("reporting_mta", &text(&r.reporting_mta))
        .with("incidents", &r.incidents.unwrap_or(1))
        .with(
            "authentication_results",
            &json_array(&r.authentication_results),
        )
        .with(
            "auth_failure",
            &json_array(r.auth_failure.iter().map(|a| a.as_str())),
        )
        .with("delivery_result", &name(&r.delivery_result))
        .with("dkim_domain", &text(&r.dkim_domain))
        .with("dkim_selector", &text(&r.dkim_selector))
        .with("dkim_identity", &text(&r.dkim_identity))
        .with("spf_dns", &text(&r.spf_dns))
        .with(
            "identity_alignment",
            &json_array(r.identity_alignment.iter().map(|a| a.as_str())),
        )
        .with("original_from", &text(&r.original_from))
        .with("original_to", &text(&r.original_to))
        .with("original_subject", &text(&r.original_subject))
        .with("original_message_id", &text(&r.original_message_id))
        .with("report_subject", &text(&r.report_subject))
        .with("sample_kind", &sample_kind)
        .with("sample", &text(&r.sample))
        .with("warnings", &json_array(r.warnings.iter()))
        .with("schema_version", &r.schema_version)
        .with("personal", &r.personal.as_str())
        .with("sealed", &text(&r.sealed))
        .source(&source)
        .ingest(meta)
        .insert(tx, "failure_reports")?;
    summary.report_rows(inserted);
    Ok(())
}

fn tlsrpt(
    tx: &Transaction<'_>,
    r: &TlsReport<'_>,
    meta: &Meta<'_>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let (ok, failed) = r.session_totals();
    let inserted = Row::new()
        .with("report_id", &r.id)
        .with("organization_name", &r.organization_name)
        .with("contact_info", &text(&r.contact_info))
        .with("reporter_report_id", &r.report_id)
        .with("date_begin", &r.begin)
        .with("date_end", &r.end)
        .with("policy_count", &r.policies.len())
        .with("successful_sessions", &ok)
        .with("failed_sessions", &failed)
        .with("warnings", &json_array(r.warnings.iter()))
        .with("schema_version", &r.schema_version)
        .ingest(meta)
        .insert(tx, "tlsrpt_reports")?;
    if !summary.report_rows(inserted) {
        return Ok(());
    }
    for (i, p) in r.policies.iter().enumerate() {
        summary.rows += Row::new()
            .with("report_id", &r.id)
            .with("policy_index", &i)
            .with("organization_name", &r.organization_name)
            .with("date_begin", &r.begin)
            .with("date_end", &r.end)
            .with("policy_type", &p.policy_type.as_str())
            .with("policy_domain", &p.policy_domain)
            .with("policy_string", &json_array(&p.policy_string))
            .with("mx_host", &json_array(&p.mx_host))
            .with("successful_sessions", &p.total_successful_session_count)
            .with("failed_sessions", &p.total_failure_session_count)
            .insert(tx, "tlsrpt_policies")? as u64;
        for (j, d) in p.failure_details.iter().enumerate() {
            let sending = SourceColumns::of(d.sending_mta_source.as_deref());
            let receiving = SourceColumns::of(d.receiving_source.as_deref());
            summary.rows += Row::new()
                .with("report_id", &r.id)
                .with("policy_index", &i)
                .with("detail_index", &j)
                .with("organization_name", &r.organization_name)
                .with("date_begin", &r.begin)
                .with("policy_type", &p.policy_type.as_str())
                .with("policy_domain", &p.policy_domain)
                .with("result_type", &d.result_type.as_str())
                .with("sending_mta_ip", &text(&d.sending_mta_ip))
                .with("receiving_mx_hostname", &text(&d.receiving_mx_hostname))
                .with("receiving_mx_helo", &text(&d.receiving_mx_helo))
                .with("receiving_ip", &text(&d.receiving_ip))
                .with("failed_sessions", &d.failed_session_count)
                .with("additional_information", &text(&d.additional_information))
                .with("failure_reason_code", &text(&d.failure_reason_code))
                .with("sending_mta_ptr", &sending.ptr)
                .with("sending_mta_name", &sending.name)
                .with("sending_mta_asn", &sending.asn)
                .with("sending_mta_as_name", &sending.as_name)
                .with("sending_mta_country", &sending.country)
                .with("receiving_ptr", &receiving.ptr)
                .with("receiving_name", &receiving.name)
                .with("receiving_asn", &receiving.asn)
                .with("receiving_as_name", &receiving.as_name)
                .with("receiving_country", &receiving.country)
                .insert(tx, "tlsrpt_failures")? as u64;
        }
    }
    Ok(())
}
