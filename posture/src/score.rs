//! The score (0-100) and its grade, from the findings alone, so that the
//! same records always score the same and a score moves only when a
//! finding does. Weights (documented in docs/posture.md):
//!
//! - each `critical` finding costs [`CRITICAL`] points, each `warning`
//!   [`WARNING`], `info` nothing; the score never goes below 0;
//! - grades: A from 90, B from 80, C from 65, D from 50, F below; a domain
//!   with any critical finding grades C at best, however few it has.

use crate::finding::{Finding, Severity};

pub const CRITICAL: u32 = 20;
pub const WARNING: u32 = 7;

pub fn score(findings: &[Finding]) -> u8 {
    let lost: u32 = findings
        .iter()
        .map(|f| match f.severity {
            Severity::Critical => CRITICAL,
            Severity::Warning => WARNING,
            Severity::Info => 0,
        })
        .sum();
    100u32.saturating_sub(lost) as u8
}

pub fn grade(score: u8, findings: &[Finding]) -> &'static str {
    let grade = match score {
        90.. => "A",
        80..=89 => "B",
        65..=79 => "C",
        50..=64 => "D",
        _ => "F",
    };
    let critical = findings.iter().any(|f| f.severity == Severity::Critical);
    if critical && matches!(grade, "A" | "B") {
        "C"
    } else {
        grade
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_grades() {
        let w = Finding::warning("x.y", "w");
        let c = Finding::critical("x.z", "c");
        assert_eq!(score(&[]), 100);
        assert_eq!(grade(100, &[]), "A");
        assert_eq!(score(&[w.clone(), w.clone()]), 86);
        assert_eq!(grade(86, std::slice::from_ref(&w)), "B");
        assert_eq!(score(std::slice::from_ref(&c)), 80);
        assert_eq!(grade(80, std::slice::from_ref(&c)), "C");
        let many = vec![c; 6];
        assert_eq!(score(&many), 0);
        assert_eq!(grade(0, &many), "F");
    }
}
