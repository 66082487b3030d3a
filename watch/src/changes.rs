//! What changed between a domain's newest check and the one before it, and
//! what in the newest needs someone: the conditions of the posture alert
//! rules. Each is a plain value the alerts crate turns into its own
//! condition; a change (a record's text, the score) is keyed by the check
//! that saw it, so it fires once and its end is not news.

use std::collections::BTreeMap;

use crate::history::StoredCheck;

/// Days before an MX certificate's expiry from which it is alerted on,
/// unless the caller says otherwise.
pub const CERTIFICATE_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeRule {
    /// A published record's text changed (old and new in the message).
    RecordChanged,
    /// The score fell.
    ScoreDropped,
    /// SPF over its 10-lookup limit.
    SpfLookupLimit,
    /// The MTA-STS policy could not be fetched, or is invalid.
    MtaStsPolicyFailing,
    /// An MX host's certificate expires within the days given (or has).
    MxCertificateExpiring,
    /// A DKIM key the reports show signing is no longer published.
    DkimKeyDisappeared,
}

impl ChangeRule {
    /// Whether a condition's end is news: not for one-off changes.
    pub fn is_event(self) -> bool {
        matches!(self, ChangeRule::RecordChanged | ChangeRule::ScoreDropped)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub rule: ChangeRule,
    pub domain: String,
    /// What within the domain (a record, a host, a selector; with the
    /// check's time for one-off changes).
    pub subject: String,
    pub message: String,
    /// What a threshold is held against: the points lost for a score, the
    /// lookups for SPF, the days left for a certificate.
    pub value: f64,
}

fn shown(text: &str) -> String {
    if text.is_empty() {
        "(none)".to_owned()
    } else {
        format!("{text:?}")
    }
}

/// The conditions holding for every domain's newest checks (`history`:
/// newest first), at `now` (Unix seconds); MX certificates count from
/// `certificate_days(domain)` days before their expiry.
pub fn changes(
    history: &BTreeMap<String, Vec<StoredCheck>>,
    now: i64,
    certificate_days: &dyn Fn(&str) -> i64,
) -> Vec<Change> {
    let mut out = Vec::new();
    for (domain, checks) in history {
        let Some(new) = checks.first() else { continue };
        let change = |rule, subject: String, message: String, value: f64| Change {
            rule,
            domain: domain.clone(),
            subject,
            message,
            value,
        };
        if let Some(old) = checks.get(1) {
            let mut records = vec![
                (
                    format!("_dmarc.{domain} (DMARC)"),
                    &old.dmarc_record,
                    &new.dmarc_record,
                ),
                (format!("{domain} (SPF)"), &old.spf_record, &new.spf_record),
                (
                    format!("_mta-sts.{domain}"),
                    &old.mta_sts_record,
                    &new.mta_sts_record,
                ),
                (
                    format!("the MTA-STS policy of {domain}"),
                    &old.mta_sts_policy,
                    &new.mta_sts_policy,
                ),
                (
                    format!("_smtp._tls.{domain}"),
                    &old.tlsrpt_record,
                    &new.tlsrpt_record,
                ),
                (
                    format!("default._bimi.{domain}"),
                    &old.bimi_record,
                    &new.bimi_record,
                ),
                (format!("{domain} (MX)"), &old.mx, &new.mx),
            ];
            for key in &new.dkim {
                if let Some(before) = old.dkim.iter().find(|k| k.selector == key.selector) {
                    records.push((
                        format!("{}._domainkey.{domain}", key.selector),
                        &before.record,
                        &key.record,
                    ));
                }
            }
            for (name, before, after) in records {
                if before != after {
                    out.push(change(
                        ChangeRule::RecordChanged,
                        format!("{name}@{}", new.checked_at),
                        format!("{name} changed: {} -> {}", shown(before), shown(after)),
                        0.0,
                    ));
                }
            }
            if new.score < old.score {
                out.push(change(
                    ChangeRule::ScoreDropped,
                    format!("@{}", new.checked_at),
                    format!(
                        "{domain}'s posture score dropped from {} ({}) to {} ({})",
                        old.score, old.grade, new.score, new.grade
                    ),
                    f64::from(old.score - new.score),
                ));
            }
        }
        if new.spf_lookups > 10 {
            out.push(change(
                ChangeRule::SpfLookupLimit,
                String::new(),
                format!(
                    "{domain}'s SPF needs {} DNS lookups, over the limit of 10: receivers return permerror and SPF fails for all its mail",
                    new.spf_lookups
                ),
                f64::from(new.spf_lookups),
            ));
        }
        if let Some(f) = new
            .findings
            .iter()
            .find(|f| f.code == "mta_sts.policy_unreachable" || f.code == "mta_sts.policy_invalid")
        {
            out.push(change(
                ChangeRule::MtaStsPolicyFailing,
                String::new(),
                f.message.clone(),
                0.0,
            ));
        }
        for tls in &new.mx_tls {
            if tls.not_after == 0 {
                continue;
            }
            let days = (tls.not_after - now).div_euclid(86_400);
            if days < certificate_days(domain) {
                let date = dmarcflow_posture::date::ymd(tls.not_after);
                let message = if tls.not_after <= now {
                    format!(
                        "{}'s certificate (an MX host of {domain}) expired on {date}",
                        tls.host
                    )
                } else {
                    format!(
                        "{}'s certificate (an MX host of {domain}) expires on {date}, in {days} days",
                        tls.host
                    )
                };
                out.push(change(
                    ChangeRule::MxCertificateExpiring,
                    tls.host.clone(),
                    message,
                    days as f64,
                ));
            }
        }
        for key in &new.dkim {
            if key.source == "reports" && key.state != "published" {
                out.push(change(
                    ChangeRule::DkimKeyDisappeared,
                    key.selector.clone(),
                    format!(
                        "the DKIM key {}._domainkey.{domain}, seen signing in reports, is {}: mail signed with it fails DKIM",
                        key.selector,
                        if key.state == "revoked" { "revoked" } else { "no longer published" }
                    ),
                    0.0,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{StoredFinding, StoredKey, StoredTls};

    fn check(at: i64, score: u8, dmarc: &str) -> StoredCheck {
        StoredCheck {
            domain: "example.com".into(),
            checked_at: at,
            score,
            grade: if score >= 90 { "A" } else { "C" }.into(),
            dmarc_record: dmarc.into(),
            dmarc_policy: String::new(),
            spf_record: "v=spf1 -all".into(),
            spf_lookups: 0,
            dkim: vec![StoredKey {
                selector: "s1".into(),
                source: "reports".into(),
                state: "published".into(),
                record: "v=DKIM1; p=AAAA".into(),
            }],
            mta_sts_record: String::new(),
            mta_sts_mode: String::new(),
            mta_sts_policy: String::new(),
            tlsrpt_record: String::new(),
            bimi_record: String::new(),
            mx: "10\tmx.example.com".into(),
            mx_tls: Vec::new(),
            enforcement: String::new(),
            findings: Vec::new(),
        }
    }

    #[test]
    fn a_changed_record_and_a_lower_score_fire_once_per_check() {
        let now = 1_796_466_600;
        let old = check(now - 86_400, 100, "v=DMARC1; p=reject");
        let new = check(now, 73, "v=DMARC1; p=none");
        let history = BTreeMap::from([("example.com".to_owned(), vec![new, old])]);
        let found = changes(&history, now, &|_| CERTIFICATE_DAYS);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].rule, ChangeRule::RecordChanged);
        assert_eq!(
            found[0].subject,
            format!("_dmarc.example.com (DMARC)@{now}")
        );
        assert_eq!(
            found[0].message,
            "_dmarc.example.com (DMARC) changed: \"v=DMARC1; p=reject\" -> \"v=DMARC1; p=none\""
        );
        assert_eq!(found[1].rule, ChangeRule::ScoreDropped);
        assert_eq!(
            found[1].message,
            "example.com's posture score dropped from 100 (A) to 73 (C)"
        );
    }

    #[test]
    fn conditions_of_the_newest_check_alone() {
        let now = 1_796_466_600;
        let mut new = check(now, 40, "v=DMARC1; p=reject");
        new.spf_lookups = 12;
        new.dkim[0].state = "missing".into();
        new.findings.push(StoredFinding {
            code: "mta_sts.policy_unreachable".into(),
            severity: "critical".into(),
            message: "the policy could not be fetched".into(),
        });
        new.mx_tls = vec![
            StoredTls {
                host: "mx1.example.com".into(),
                starttls: "yes".into(),
                certificate: "valid".into(),
                not_after: now + 5 * 86_400 + 60,
            },
            StoredTls {
                host: "mx2.example.com".into(),
                starttls: "yes".into(),
                certificate: "valid".into(),
                not_after: now + 90 * 86_400,
            },
        ];
        let history = BTreeMap::from([("example.com".to_owned(), vec![new])]);
        let found = changes(&history, now, &|_| CERTIFICATE_DAYS);
        let rules: Vec<ChangeRule> = found.iter().map(|c| c.rule).collect();
        assert_eq!(
            rules,
            [
                ChangeRule::SpfLookupLimit,
                ChangeRule::MtaStsPolicyFailing,
                ChangeRule::MxCertificateExpiring,
                ChangeRule::DkimKeyDisappeared
            ]
        );
        assert_eq!(
            found[2].message,
            "mx1.example.com's certificate (an MX host of example.com) expires on 2026-12-10, in 5 days"
        );
        assert_eq!(found[3].subject, "s1");
    }
}
