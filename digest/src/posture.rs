//! The digest's posture section: the domain's newest stored check
//! (`dmarcflow_watch`): its score and grade, when it was made, and what
//! needs fixing (critical findings first, then warnings), each with its
//! code. Absent when the domain has never been checked.

use dmarcflow_store::Table;
use dmarcflow_watch::StoredCheck;

/// Findings shown; the rest are counted.
const SHOWN: usize = 15;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostureSection {
    /// "Score 86/100 (B) at the check of 2026-12-05: 0 critical, 2 warnings."
    pub summary: String,
    /// severity, code, finding.
    pub findings: Table,
    /// "... and 4 more" when findings were left out.
    pub more: Option<String>,
}

pub fn section(check: &StoredCheck) -> PostureSection {
    let count = |s: &str| check.findings.iter().filter(|f| f.severity == s).count();
    let (critical, warnings) = (count("critical"), count("warning"));
    let summary = format!(
        "Score {}/100 ({}) at the check of {}: {critical} critical, {warnings} warning{}.",
        check.score,
        check.grade,
        dmarcflow_posture::date::ymd(check.checked_at),
        if warnings == 1 { "" } else { "s" }
    );
    let mut rows: Vec<Vec<String>> = ["critical", "warning"]
        .iter()
        .flat_map(|severity| {
            check
                .findings
                .iter()
                .filter(move |f| f.severity == *severity)
                .map(|f| vec![f.severity.clone(), f.code.clone(), f.message.clone()])
        })
        .collect();
    let more = (rows.len() > SHOWN).then(|| format!("... and {} more.", rows.len() - SHOWN));
    rows.truncate(SHOWN);
    PostureSection {
        summary,
        findings: Table {
            columns: vec!["severity".into(), "code".into(), "finding".into()],
            rows,
        },
        more,
    }
}
