//! A batch into SQLite: one transaction; `INSERT OR IGNORE` on the unique
//! keys (report id; report id + record/policy/detail index) so a replayed
//! report or part inserts nothing, and the aggregation triggers (which fire
//! only for rows actually inserted) count nothing twice.

use dmarcflow_schemas::aggregate::AggregateReport;
use dmarcflow_schemas::failure::FailureReport;
use dmarcflow_schemas::tlsrpt::TlsReport;
use dmarcflow_schemas::{Ingested, Report};
use rusqlite::{params, Connection, Transaction};

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
            Report::Aggregate(r) => aggregate(&tx, r, meta, &mut summary)?,
            Report::Failure(r) => failure(&tx, r, meta, &mut summary)?,
            Report::Tlsrpt(r) => tlsrpt(&tx, r, meta, &mut summary)?,
        }
    }
    // A transaction is all or nothing: the lease is checked once, last.
    lease.check()?;
    tx.commit()?;
    Ok(summary)
}

/// The ingest metadata of one report.
struct Meta<'a> {
    origin: &'a str,
    received_at: i64,
    auth: ReporterColumns<'a>,
}

fn text<T: AsRef<str>>(value: &Option<T>) -> &str {
    value.as_ref().map_or("", AsRef::as_ref)
}

fn aggregate(
    tx: &Transaction<'_>,
    r: &AggregateReport<'_>,
    Meta {
        origin,
        received_at,
        auth,
    }: Meta<'_>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let complete: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM aggregate_reports WHERE report_id = ?1)")?
        .query_row([&r.id], |row| row.get(0))?;
    if complete {
        summary.duplicates += 1;
        return Ok(());
    }
    let m = &r.metadata;
    let p = &r.policy_published;
    let first = r.first_record();
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO aggregate_records (report_id, record_index, org_name, date_begin, \
         date_end, policy_domain, source_ip, message_count, disposition, dkim, spf, reason_types, \
         reason_comments, header_from, envelope_from, envelope_to, dkim_domains, dkim_selectors, \
         dkim_results, dkim_human_results, spf_domains, spf_scopes, spf_results, \
         spf_human_results, \
         source_ptr, source_ptr_confirmed, source_base_domain, source_name, source_type, \
         source_asn, source_as_name, source_as_domain, source_country, source_lookup_failed) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)",
    )?;
    for (i, rec) in r.records.iter().enumerate() {
        let index = first + i as u64;
        let source = SourceColumns::of(rec.source.as_deref());
        let opt = |v: Option<&str>| v.unwrap_or("").to_owned();
        summary.rows += insert.execute(params![
            r.id,
            index,
            m.org_name,
            m.begin,
            m.end,
            p.domain,
            rec.source_ip,
            rec.count,
            rec.disposition.as_ref().map_or("", |v| v.as_str()),
            rec.dkim.as_ref().map_or("", |v| v.as_str()),
            rec.spf.as_ref().map_or("", |v| v.as_str()),
            json_array(
                rec.reasons
                    .iter()
                    .map(|o| o.kind.as_ref().map_or("", |k| k.as_str()))
            ),
            json_array(rec.reasons.iter().map(|o| opt(o.comment.as_deref()))),
            rec.header_from,
            text(&rec.envelope_from),
            text(&rec.envelope_to),
            json_array(rec.dkim_results.iter().map(|d| &d.domain)),
            json_array(rec.dkim_results.iter().map(|d| opt(d.selector.as_deref()))),
            json_array(rec.dkim_results.iter().map(|d| d.result.as_str())),
            json_array(
                rec.dkim_results
                    .iter()
                    .map(|d| opt(d.human_result.as_deref()))
            ),
            json_array(rec.spf_results.iter().map(|s| &s.domain)),
            json_array(
                rec.spf_results
                    .iter()
                    .map(|s| s.scope.as_ref().map_or("", |v| v.as_str()))
            ),
            json_array(rec.spf_results.iter().map(|s| s.result.as_str())),
            json_array(
                rec.spf_results
                    .iter()
                    .map(|s| opt(s.human_result.as_deref()))
            ),
            source.ptr,
            source.ptr_confirmed,
            source.base_domain,
            source.name,
            source.kind,
            source.asn,
            source.as_name,
            source.as_domain,
            source.country,
            source.lookup_failed,
        ])? as u64;
    }
    if !r.is_final() {
        return Ok(());
    }
    let (record_count, message_count) = match r.part {
        Some(part) => (part.total_records, part.total_messages),
        None => (r.records.len() as u64, r.message_count()),
    };
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO aggregate_reports (report_id, org_name, org_email, \
             extra_contact_info, reporter_report_id, reporter_report_id_raw, date_begin, date_end, \
             policy_domain, version, namespace, generator, adkim, aspf, p, sp, np, pct, fo, \
             testing, discovery_method, record_count, message_count, errors, warnings, extensions, \
             schema_version, origin, ingested_at, reporter_auth, reporter_dkim, \
             reporter_dkim_domain, reporter_spf, reporter_authenticated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, \
             ?34)",
        )?
        .execute(params![
            r.id,
            m.org_name,
            m.email,
            text(&m.extra_contact_info),
            m.report_id,
            text(&m.report_id_raw),
            m.begin,
            m.end,
            p.domain,
            text(&r.version),
            text(&r.namespace),
            text(&m.generator),
            p.adkim.as_ref().map_or("", |v| v.as_str()),
            p.aspf.as_ref().map_or("", |v| v.as_str()),
            p.p.as_ref().map_or("", |v| v.as_str()),
            p.sp.as_ref().map_or("", |v| v.as_str()),
            p.np.as_ref().map_or("", |v| v.as_str()),
            p.pct,
            text(&p.fo),
            p.testing.as_ref().map_or("", |v| v.as_str()),
            p.discovery_method.as_ref().map_or("", |v| v.as_str()),
            record_count,
            message_count,
            json_array(&m.errors),
            json_array(r.warnings.iter()),
            if r.extensions.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&r.extensions).unwrap_or_default()
            },
            r.schema_version,
            origin,
            received_at,
            auth.auth,
            auth.dkim,
            auth.dkim_domain,
            auth.spf,
            auth.authenticated,
        ])?;
    summary.rows += inserted as u64;
    summary.reports += inserted as u64;
    Ok(())
}

fn failure(
    tx: &Transaction<'_>,
    r: &FailureReport<'_>,
    Meta {
        origin,
        received_at,
        auth,
    }: Meta<'_>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let source = SourceColumns::of(r.source.as_deref());
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO failure_reports (report_id, arrival_date, reported_domain, \
             reported_domains, feedback_type, user_agent, version, source_ip, original_mail_from, \
             original_rcpt_to, original_envelope_id, reporting_mta, incidents, \
             authentication_results, auth_failure, delivery_result, dkim_domain, dkim_selector, \
             dkim_identity, spf_dns, identity_alignment, original_from, original_to, \
             original_subject, original_message_id, report_subject, sample_kind, sample, warnings, \
             schema_version, origin, ingested_at, source_ptr, source_ptr_confirmed, \
             source_base_domain, source_name, source_type, source_asn, source_as_name, \
             source_as_domain, source_country, source_lookup_failed, \
             reporter_auth, reporter_dkim, reporter_dkim_domain, reporter_spf, \
             reporter_authenticated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
             ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, \
             ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, \
             ?45, ?46, ?47)",
        )?
        .execute(params![
            r.id,
            failure_arrival(r, received_at),
            r.reported_domain.first().map_or("", |d| d.as_ref()),
            json_array(&r.reported_domain),
            r.feedback_type.as_str(),
            text(&r.user_agent),
            text(&r.version),
            text(&r.source_ip),
            text(&r.original_mail_from),
            json_array(&r.original_rcpt_to),
            text(&r.original_envelope_id),
            text(&r.reporting_mta),
            r.incidents.unwrap_or(1),
            json_array(&r.authentication_results),
            json_array(r.auth_failure.iter().map(|a| a.as_str())),
            r.delivery_result.as_ref().map_or("", |d| d.as_str()),
            text(&r.dkim_domain),
            text(&r.dkim_selector),
            text(&r.dkim_identity),
            text(&r.spf_dns),
            json_array(r.identity_alignment.iter().map(|a| a.as_str())),
            text(&r.original_from),
            text(&r.original_to),
            text(&r.original_subject),
            text(&r.original_message_id),
            text(&r.report_subject),
            serde_json::to_value(r.sample_kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            text(&r.sample),
            json_array(r.warnings.iter()),
            r.schema_version,
            origin,
            received_at,
            source.ptr,
            source.ptr_confirmed,
            source.base_domain,
            source.name,
            source.kind,
            source.asn,
            source.as_name,
            source.as_domain,
            source.country,
            source.lookup_failed,
            auth.auth,
            auth.dkim,
            auth.dkim_domain,
            auth.spf,
            auth.authenticated,
        ])?;
    if inserted == 0 {
        summary.duplicates += 1;
    }
    summary.reports += inserted as u64;
    summary.rows += inserted as u64;
    Ok(())
}

fn tlsrpt(
    tx: &Transaction<'_>,
    r: &TlsReport<'_>,
    Meta {
        origin,
        received_at,
        auth,
    }: Meta<'_>,
    summary: &mut WriteSummary,
) -> Result<(), StoreError> {
    let (ok, failed) = r.session_totals();
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO tlsrpt_reports (report_id, organization_name, contact_info, \
             reporter_report_id, date_begin, date_end, policy_count, successful_sessions, \
             failed_sessions, warnings, schema_version, origin, ingested_at, reporter_auth, \
             reporter_dkim, reporter_dkim_domain, reporter_spf, reporter_authenticated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18)",
        )?
        .execute(params![
            r.id,
            r.organization_name,
            text(&r.contact_info),
            r.report_id,
            r.begin,
            r.end,
            r.policies.len(),
            ok,
            failed,
            json_array(r.warnings.iter()),
            r.schema_version,
            origin,
            received_at,
            auth.auth,
            auth.dkim,
            auth.dkim_domain,
            auth.spf,
            auth.authenticated,
        ])?;
    if inserted == 0 {
        summary.duplicates += 1;
        return Ok(());
    }
    summary.reports += 1;
    summary.rows += 1;
    let mut policy = tx.prepare_cached(
        "INSERT OR IGNORE INTO tlsrpt_policies (report_id, policy_index, organization_name, \
         date_begin, date_end, policy_type, policy_domain, policy_string, mx_host, \
         successful_sessions, failed_sessions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, \
         ?11)",
    )?;
    let mut detail = tx.prepare_cached(
        "INSERT OR IGNORE INTO tlsrpt_failures (report_id, policy_index, detail_index, \
         organization_name, date_begin, policy_type, policy_domain, result_type, sending_mta_ip, \
         receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_sessions, \
         additional_information, failure_reason_code, sending_mta_ptr, sending_mta_name, \
         sending_mta_asn, sending_mta_as_name, sending_mta_country, receiving_ptr, \
         receiving_name, receiving_asn, receiving_as_name, receiving_country) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
    )?;
    for (i, p) in r.policies.iter().enumerate() {
        summary.rows += policy.execute(params![
            r.id,
            i,
            r.organization_name,
            r.begin,
            r.end,
            p.policy_type.as_str(),
            p.policy_domain,
            json_array(&p.policy_string),
            json_array(&p.mx_host),
            p.total_successful_session_count,
            p.total_failure_session_count,
        ])? as u64;
        for (j, d) in p.failure_details.iter().enumerate() {
            let sending = SourceColumns::of(d.sending_mta_source.as_deref());
            let receiving = SourceColumns::of(d.receiving_source.as_deref());
            summary.rows += detail.execute(params![
                r.id,
                i,
                j,
                r.organization_name,
                r.begin,
                p.policy_type.as_str(),
                p.policy_domain,
                d.result_type.as_str(),
                text(&d.sending_mta_ip),
                text(&d.receiving_mx_hostname),
                text(&d.receiving_mx_helo),
                text(&d.receiving_ip),
                d.failed_session_count,
                text(&d.additional_information),
                text(&d.failure_reason_code),
                sending.ptr,
                sending.name,
                sending.asn,
                sending.as_name,
                sending.country,
                receiving.ptr,
                receiving.name,
                receiving.asn,
                receiving.as_name,
                receiving.country,
            ])? as u64;
        }
    }
    Ok(())
}
