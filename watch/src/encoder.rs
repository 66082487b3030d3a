//! A check as a `domain_checks` row (schemas: ClickHouse 0012, SQLite
//! 0006): the score, every record's text as published, what each MX host
//! showed, the findings, and the whole check as `check --json` prints it.
//! Multi-valued columns are lines of tab-separated fields; a tab or a line
//! break inside published text (DNS allows any byte) becomes a space there,
//! and stays as it was in `document`.

use dmarcflow_posture::{Posture, Severity};
use dmarcflow_store::summary::Backend;

/// The table's columns, in the order [`insert`] writes them.
pub const COLUMNS: &[&str] = &[
    "domain",
    "checked_at",
    "score",
    "grade",
    "critical",
    "warnings",
    "dmarc_record",
    "dmarc_policy",
    "spf_record",
    "spf_lookups",
    "spf_void_lookups",
    "dkim",
    "mta_sts_record",
    "mta_sts_mode",
    "mta_sts_policy",
    "tlsrpt_record",
    "bimi_record",
    "mx",
    "mx_tls",
    "enforcement",
    "findings",
    "document",
];

/// One field of a line: no tabs or line breaks.
pub fn field(text: &str) -> String {
    text.replace(['\t', '\r', '\n'], " ")
}

/// The `dkim` column: selector, source, state, record.
pub fn dkim_lines(p: &Posture) -> String {
    p.dkim
        .iter()
        .map(|k| {
            let state = match (k.published, k.revoked) {
                (false, _) => "missing",
                (true, true) => "revoked",
                (true, false) => "published",
            };
            let source = match k.source {
                dmarcflow_posture::SelectorSource::Reports => "reports",
                dmarcflow_posture::SelectorSource::Configured => "configured",
            };
            format!(
                "{}\t{source}\t{state}\t{}",
                field(&k.selector),
                field(k.record.as_deref().unwrap_or(""))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `mx` column: preference, host.
pub fn mx_lines(p: &Posture) -> String {
    p.mx.iter()
        .map(|m| format!("{}\t{}", m.preference, field(&m.host)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `mx_tls` column: host, STARTTLS (yes, no, unreached), the
/// certificate (valid or its problem; empty without one), not after.
pub fn mx_tls_lines(p: &Posture) -> String {
    p.mx.iter()
        .filter_map(|m| {
            let tls = m.tls.as_ref()?;
            let starttls = match tls.starttls {
                None => "unreached",
                Some(true) => "yes",
                Some(false) => "no",
            };
            let (certificate, after) = match &tls.certificate {
                None => (String::new(), 0),
                Some(c) => (
                    c.problem.clone().unwrap_or_else(|| "valid".to_owned()),
                    c.not_after.unwrap_or(0),
                ),
            };
            Some(format!(
                "{}\t{starttls}\t{}\t{after}",
                field(&m.host),
                field(&certificate)
            ))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The INSERT of `postures` (none: None).
pub fn insert(backend: Backend, postures: &[Posture]) -> Option<String> {
    if postures.is_empty() {
        return None;
    }
    let q = |s: &str| backend.quote(s);
    let rows: Vec<String> = postures
        .iter()
        .map(|p| {
            let count = |s: Severity| p.findings.iter().filter(|f| f.severity == s).count();
            let findings = serde_json::to_string(&p.findings).unwrap_or_else(|_| "[]".into());
            let document = serde_json::to_string(p).unwrap_or_else(|_| "{}".into());
            let values = [
                q(&p.domain),
                backend.time(i64::try_from(p.checked_at).unwrap_or(0)),
                p.score.to_string(),
                q(p.grade),
                count(Severity::Critical).to_string(),
                count(Severity::Warning).to_string(),
                q(p.dmarc.record.as_deref().unwrap_or("")),
                q(p.dmarc.policy.as_ref().map_or("", |x| x.as_str())),
                q(p.spf.record.as_deref().unwrap_or("")),
                p.spf.lookups.min(65_535).to_string(),
                p.spf.void_lookups.min(65_535).to_string(),
                q(&dkim_lines(p)),
                q(p.mta_sts.record.as_deref().unwrap_or("")),
                q(p.mta_sts.mode.as_deref().unwrap_or("")),
                q(p.mta_sts.policy.as_deref().unwrap_or("")),
                q(p.tlsrpt.record.as_deref().unwrap_or("")),
                q(p.bimi.record.as_deref().unwrap_or("")),
                q(&mx_lines(p)),
                q(&mx_tls_lines(p)),
                q(p.enforcement.as_ref().map_or("", |e| e.verdict.as_str())),
                q(&findings),
                q(&document),
            ];
            format!("({})", values.join(", "))
        })
        .collect();
    // A re-check within the same second replaces the row (SQLite's key is
    // the domain and the second); ClickHouse keeps both.
    Some(format!(
        "{} domain_checks ({}) VALUES {}",
        backend.upsert(),
        COLUMNS.join(", "),
        rows.join(", ")
    ))
}
