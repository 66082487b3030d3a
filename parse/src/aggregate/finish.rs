//! The checks and normalisations done once the whole document was read.

use std::borrow::Cow;

use dmarcflow_schemas::storable_time::unstorable_time;
use dmarcflow_schemas::AggregateReport;

use super::fields;
use super::seen::Seen;
use crate::ParseError;

/// Completes the header: parsedmarc's report id and org name rules, the
/// identity, and the minimum a report must have to be one.
pub(crate) fn finish_header<'x>(
    mut report: AggregateReport<'x>,
    seen: &Seen,
) -> Result<AggregateReport<'x>, ParseError> {
    let w = &mut report.warnings;
    let meta = &mut report.metadata;
    let raw_id = std::mem::take(&mut meta.report_id);
    let (id, changed) = fields::report_id(raw_id.clone());
    meta.report_id = id;
    if changed {
        w.push("report id normalised (<> stripped, text from @ dropped)");
        meta.report_id_raw = Some(raw_id);
    }
    if meta.report_id.is_empty() && seen.records == 0 {
        return Err(ParseError::InvalidReport(
            "no <report_id> and no <record>".into(),
        ));
    }
    if meta.report_id.is_empty() {
        w.push("report without <report_id>");
    }
    if meta.org_name.trim().is_empty() {
        // parsedmarc's rule: an unnamed reporter is named by its email domain.
        if let Some((_, domain)) = meta.email.rsplit_once('@') {
            meta.org_name = Cow::Owned(domain.trim().trim_end_matches('>').to_owned());
            w.push("empty <org_name>: named after the email domain");
        } else {
            w.push("report without <org_name>");
        }
    }
    if !seen.date_range {
        w.push("report without <date_range>");
    } else if meta.end < meta.begin {
        w.push("<date_range> ends before it begins");
    }
    for (field, seconds) in [("<begin>", meta.begin), ("<end>", meta.end)] {
        if let Some(warning) = unstorable_time(field, seconds) {
            w.push(warning);
        }
    }
    if report.policy_published.domain.is_empty() {
        w.push("report without <policy_published><domain>");
    }
    if seen.records == 0 {
        w.push("report without records");
    }
    report.id = AggregateReport::compute_id(&report.metadata, &report.policy_published);
    Ok(report)
}
