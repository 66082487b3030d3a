//! The MTA-STS rules, from the stored TLS reports
//! (`dmarcflow_enforce::mta_sts`), for every domain with TLS reports in the
//! window:
//! - `mta_sts_ready`: a `testing` policy with no failure for
//!   `[enforcement] mta_sts_clean_days` over enough sessions; told once
//!   (like `domain_ready`);
//! - `mta_sts_enforce_failures`: an `enforce` policy and failures in the
//!   clean-days window: senders refused delivery; per MX host and result;
//! - `certificate_renewal_failed`: a hosted policy host's ACME order
//!   failed (`dmarcflow_hosted::renewals`); the old certificate is served;
//! - `spf_flattening_changed`: a flattened SPF chain's ranges moved
//!   (`dmarcflow_hosted::spf::history`); told once per change.
//!
//! The readiness looks back twice the clean days before the evaluation
//! day, so a window that just filled is seen whole.

use dmarcflow_enforce::mta_sts::{assess, StsVerdict};
use dmarcflow_store::summary::{day, Scope};
use dmarcflow_store::Store;

use crate::rules::{Condition, Period, Rule};
use crate::{AlertError, AlertsConfig};

pub async fn conditions(
    store: &Store,
    config: &AlertsConfig,
    period: &Period,
) -> Result<Vec<Condition>, AlertError> {
    let b = store.backend();
    let last = period.window.1 - 86_400;
    let clean = i64::from(config.enforcement.mta_sts_clean_days.max(1));
    let first = last - 2 * clean * 86_400;
    let sql = format!(
        "SELECT policy_domain FROM tlsrpt_by_result_daily WHERE day >= {} AND day <= {} \
         GROUP BY policy_domain ORDER BY policy_domain",
        b.day(&day(first)),
        b.day(&day(last)),
    );
    let mut out = Vec::new();
    // Hosted policy hosts whose certificate could not be renewed.
    let failing = dmarcflow_hosted::renewals::failing(store).await?;
    for f in failing {
        let domain = f
            .name
            .strip_prefix("mta-sts.")
            .unwrap_or(&f.name)
            .to_owned();
        if config.thresholds(&domain).certificate_renewal_failed == 0 {
            continue;
        }
        let served = if f.not_after > 0 {
            format!(
                "the old one, valid until {}, is still served",
                day(f.not_after)
            )
        } else {
            "no certificate is served for it".to_owned()
        };
        out.push(Condition {
            rule: Rule::CertificateRenewalFailed,
            domain,
            subject: f.name.clone(),
            message: format!(
                "the certificate of {} could not be renewed ({}): {served}",
                f.name, f.error
            ),
            value: f.not_after as f64,
        });
    }
    // Flattened SPF chains whose ranges moved.
    let moved = dmarcflow_hosted::spf::history::changes(store).await?;
    for c in moved {
        if config.thresholds(&c.domain).spf_flattening_changed == 0 {
            continue;
        }
        let list = |v: &[String]| {
            let shown: Vec<&str> = v.iter().take(10).map(String::as_str).collect();
            let more = v.len().saturating_sub(10);
            if more > 0 {
                format!("{} and {more} more", shown.join(" "))
            } else {
                shown.join(" ")
            }
        };
        let mut parts = Vec::new();
        if !c.added.is_empty() {
            parts.push(format!("added {}", list(&c.added)));
        }
        if !c.removed.is_empty() {
            parts.push(format!("removed {}", list(&c.removed)));
        }
        out.push(Condition {
            rule: Rule::SpfFlatteningChanged,
            domain: c.domain.clone(),
            subject: format!("{}@{}", c.domain, c.at),
            message: format!(
                "the flattened SPF of {} changed (a provider's ranges moved): {}",
                c.domain,
                parts.join("; ")
            ),
            value: (c.added.len() + c.removed.len()) as f64,
        });
    }
    for row in store.query(&sql).await?.rows {
        let Some(domain) = row.into_iter().next() else {
            continue;
        };
        let t = config.thresholds(&domain);
        if t.mta_sts_ready == 0 && t.mta_sts_enforce_failures == 0 {
            continue;
        }
        let Ok(scope) = Scope::new(&domain, &day(first), &day(last)) else {
            continue;
        };
        let r = assess(store, &scope, &config.enforcement).await?;
        match r.verdict {
            StsVerdict::Ready if t.mta_sts_ready > 0 => out.push(Condition {
                rule: Rule::MtaStsReady,
                domain: domain.clone(),
                subject: String::new(),
                message: format!("{domain}: {}", r.summary()),
                value: r.window_sessions as f64,
            }),
            StsVerdict::Enforced if t.mta_sts_enforce_failures > 0 => {
                for blocker in &r.blockers {
                    if blocker.sessions >= t.mta_sts_enforce_failures {
                        out.push(Condition {
                            rule: Rule::MtaStsEnforceFailures,
                            domain: domain.clone(),
                            subject: format!("{} {}", blocker.mx_host, blocker.result),
                            message: format!(
                                "{domain} enforces MTA-STS and senders refused delivery: {}",
                                blocker.text()
                            ),
                            value: blocker.sessions as f64,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
