//! An assessment as the first lines a person reads: the verdict, the next
//! step, what it would have done, the blockers with their fixes, and who
//! sends as the domain in which class.

use std::fmt::Write;

use dmarcflow_store::Table;

use crate::assessment::{group_digits, Assessment, Share, Verdict};

/// The assessment as text (for `dmarcflow report`).
pub fn text(a: &Assessment) -> String {
    let mut out = String::new();
    for (i, line) in summary(a).iter().enumerate() {
        let indent = if i == 0 { "" } else { "  " };
        let _ = writeln!(out, "{indent}{line}");
    }
    if !a.blockers.is_empty() {
        let _ = writeln!(out, "  Fix first:");
        for fix in fixes(a) {
            let _ = writeln!(out, "  - {fix}");
        }
    }
    if !a.senders.is_empty() {
        let mut table = senders(a);
        let more = table.rows.len().saturating_sub(SHOWN);
        table.rows.truncate(SHOWN);
        let _ = write!(out, "\nSenders\n{}", table.to_aligned());
        if more > 0 {
            let _ = writeln!(out, "({more} more: report --format json lists them all)");
        }
    }
    out
}

/// The senders the text shows, the largest first.
const SHOWN: usize = 30;

/// The verdict with the published policy, the next step, and what it
/// would have done: the lines every rendering opens with.
pub fn summary(a: &Assessment) -> Vec<String> {
    let verdict = match a.verdict {
        Verdict::Ready => "ready for the next step",
        Verdict::NotReady => "not ready for the next step",
        Verdict::Enforced => "enforced",
    };
    let mut lines = vec![format!(
        "Enforcement: {verdict} (published: {})",
        policy_text(a)
    )];
    if let Some(step) = &a.next_step {
        lines.push(format!("Next step: {step}"));
    }
    if a.messages == 0 {
        lines.push(format!(
            "No aggregate reports for {} in these days.",
            a.domain
        ));
    } else {
        lines.push(format!(
            "Of {} messages, enforcing would have lost {} of your own and blocked {} unauthorised; {} forwarded apart.",
            group_digits(a.messages),
            share(&a.would_lose),
            share(&a.would_block),
            share(&a.forwarded),
        ));
    }
    lines
}

/// Each blocker's fix, approved senders marked.
pub fn fixes(a: &Assessment) -> Vec<String> {
    a.blockers
        .iter()
        .map(|b| {
            let approved = if b.approved {
                " (an approved sender)"
            } else {
                ""
            };
            format!("{}{approved}", b.fix)
        })
        .collect()
}

/// Who sends as the domain, a row per sender and class.
pub fn senders(a: &Assessment) -> Table {
    Table {
        columns: ["sender", "type", "class", "messages", "failing", "sources"]
            .map(str::to_owned)
            .to_vec(),
        rows: a
            .senders
            .iter()
            .map(|s| {
                vec![
                    s.sender.clone(),
                    s.kind.clone(),
                    s.class.as_str().to_owned(),
                    s.messages.to_string(),
                    s.failing.to_string(),
                    s.sources.to_string(),
                ]
            })
            .collect(),
    }
}

/// The published policy's tags, `none known` without reports.
pub fn policy_text(a: &Assessment) -> String {
    let p = &a.policy;
    if p.p.is_empty() {
        return "none known".to_owned();
    }
    let mut tags = vec![format!("p={}", p.p)];
    for (tag, value) in [("sp", &p.sp), ("np", &p.np), ("t", &p.testing)] {
        if !value.is_empty() {
            tags.push(format!("{tag}={value}"));
        }
    }
    if let Some(pct) = p.pct {
        tags.push(format!("pct={pct}"));
    }
    tags.join("; ")
}

/// `12,310 (2.38%)`.
pub fn share(s: &Share) -> String {
    format!("{} ({:.2}%)", group_digits(s.messages), s.share * 100.0)
}
