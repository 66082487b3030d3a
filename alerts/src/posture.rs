//! The rules that read the posture watch's stored checks
//! (`dmarcflow_watch`) rather than the reports: a published record changed
//! (old and new text in the message), the score fell, SPF over its lookup
//! limit, the MTA-STS policy unreachable or invalid, an MX certificate
//! near or past its expiry, a DKIM key in use gone. One query: the two
//! newest checks of every domain.

use dmarcflow_store::Store;
use dmarcflow_watch::{changes, latest, ChangeRule};

use crate::rules::{Condition, Period, Rule};
use crate::{AlertError, AlertsConfig};

pub async fn conditions(
    store: &Store,
    config: &AlertsConfig,
    period: &Period,
) -> Result<Vec<Condition>, AlertError> {
    let history = latest(store, 2).await?;
    // The evaluation day's last second: certificates count from it.
    let now = period.window.1 - 1;
    let days = |domain: &str| config.thresholds(domain).mx_certificate_days as i64;
    let mut out = Vec::new();
    for c in changes(&history, now, &days) {
        let t = config.thresholds(&c.domain);
        let (rule, on) = match c.rule {
            ChangeRule::RecordChanged => (Rule::RecordChanged, t.record_changed > 0),
            ChangeRule::ScoreDropped => (
                Rule::ScoreDropped,
                t.score_drop_points > 0 && c.value >= t.score_drop_points as f64,
            ),
            ChangeRule::SpfLookupLimit => (Rule::SpfLookupLimit, t.spf_lookup_limit > 0),
            ChangeRule::MtaStsPolicyFailing => {
                (Rule::MtaStsPolicyFailing, t.mta_sts_policy_failing > 0)
            }
            ChangeRule::MxCertificateExpiring => {
                (Rule::MxCertificateExpiring, t.mx_certificate_days > 0)
            }
            ChangeRule::DkimKeyDisappeared => {
                (Rule::DkimKeyDisappeared, t.dkim_key_disappeared > 0)
            }
        };
        if on {
            out.push(Condition {
                rule,
                domain: c.domain,
                subject: c.subject,
                message: c.message,
                value: c.value,
            });
        }
    }
    Ok(out)
}
