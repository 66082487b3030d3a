//! What a round tells, and to whom. Its notified transitions are grouped
//! by domain: each JSON webhook gets one POST per transition (every field,
//! for machines); a Slack-compatible webhook one text per domain, and the
//! e-mail recipients one message per domain listing its transitions (the
//! subject names the alert when there is one), so a bad day is one
//! message, not twenty. Every channel is tried for every domain; a domain
//! whose delivery failed on any of them comes back as [`Undelivered`] and
//! its transitions are not recorded, so the next round sends them again
//! (at least once: the channels that took them get them again too).

use std::collections::BTreeMap;

use dmarcflow_store::summary::day;

use crate::email::send_mail;
use crate::state::Status;
use crate::webhook::post_json;
use crate::{AlertError, AlertsConfig, Transition, WebhookFormat};

/// A domain's notifications that did not all go out.
#[derive(Debug)]
pub struct Undelivered {
    pub domain: String,
    pub error: AlertError,
}

/// Sends the notified transitions to every channel configured.
pub async fn deliver(config: &AlertsConfig, transitions: &[Transition]) -> Vec<Undelivered> {
    let mut by_domain: BTreeMap<&str, Vec<&Transition>> = BTreeMap::new();
    for t in transitions.iter().filter(|t| t.notified) {
        by_domain.entry(t.domain.as_str()).or_default().push(t);
    }
    let mut undelivered = Vec::new();
    for (domain, group) in by_domain {
        let mut failed = |error| {
            undelivered.push(Undelivered {
                domain: domain.to_owned(),
                error,
            })
        };
        for webhook in &config.webhooks {
            let sent = match webhook.format {
                WebhookFormat::Json => {
                    let mut sent = Ok(());
                    for t in &group {
                        sent = post_json(webhook, &json(t)).await;
                        if sent.is_err() {
                            break;
                        }
                    }
                    sent
                }
                WebhookFormat::Slack => post_json(webhook, &slack(domain, &group)).await,
            };
            if let Err(e) = sent {
                failed(e);
            }
        }
        if let Some(email) = &config.email {
            if let Err(e) = send_mail(email, &subject(domain, &group), body(&group), None).await {
                failed(e);
            }
        }
    }
    undelivered
}

/// The generic webhook's body for one transition.
pub fn json(t: &Transition) -> String {
    serde_json::json!({
        "status": t.status.as_str(),
        "rule": t.rule,
        "domain": t.domain,
        "subject": t.subject,
        "message": t.message,
        "value": t.value,
        "since": t.since,
        "source": "dmarcflow",
    })
    .to_string()
}

/// The Slack-compatible body for a domain's transitions: a line each,
/// under a heading when there are several.
pub fn slack(domain: &str, group: &[&Transition]) -> String {
    let mut text = String::new();
    if group.len() > 1 {
        text.push_str(&format!("*dmarcflow {domain}*: {}\n", counts(group)));
    }
    for t in group {
        let mark = match t.status {
            Status::Firing => ":rotating_light: FIRING",
            Status::Resolved => ":white_check_mark: RESOLVED",
        };
        text.push_str(&format!("{mark} [{}] {}\n", t.rule, t.message));
    }
    serde_json::json!({"text": text.trim_end()}).to_string()
}

/// The e-mail's subject: the alert itself when it is the only one, else
/// the domain and how many fired and resolved.
pub fn subject(domain: &str, group: &[&Transition]) -> String {
    match group {
        [t] => {
            let what = if t.subject.is_empty() {
                String::new()
            } else {
                format!(": {}", t.subject)
            };
            format!(
                "[dmarcflow] {} {} {domain}{what}",
                status_word(t.status),
                t.rule
            )
        }
        _ => format!("[dmarcflow] {domain}: {}", counts(group)),
    }
}

/// The e-mail's text: each transition, its message and its facts.
pub fn body(group: &[&Transition]) -> String {
    let mut text = String::new();
    for t in group {
        let subject = if t.subject.is_empty() {
            String::new()
        } else {
            format!(" ({})", t.subject)
        };
        text.push_str(&format!(
            "{} {}{subject}\n  {}\n  value: {}; since {}\n\n",
            status_word(t.status),
            t.rule,
            t.message,
            t.value,
            time(t.since)
        ));
    }
    text.push_str("-- \ndmarcflow alerts\n");
    text
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Firing => "FIRING",
        Status::Resolved => "RESOLVED",
    }
}

/// "3 firing, 1 resolved" (a part only when not zero).
fn counts(group: &[&Transition]) -> String {
    let firing = group.iter().filter(|t| t.status == Status::Firing).count();
    let resolved = group.len() - firing;
    let mut parts = Vec::new();
    if firing > 0 {
        parts.push(format!("{firing} firing"));
    }
    if resolved > 0 {
        parts.push(format!("{resolved} resolved"));
    }
    parts.join(", ")
}

/// Unix seconds as "YYYY-MM-DD HH:MM UTC".
fn time(seconds: i64) -> String {
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02} UTC",
        day(seconds),
        of_day / 3600,
        of_day % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transition(status: Status, rule: &str, subject: &str, message: &str) -> Transition {
        Transition {
            status,
            rule: rule.into(),
            domain: "example.com".into(),
            subject: subject.into(),
            message: message.into(),
            value: 3.0,
            since: 1_705_366_800,
            notified: true,
        }
    }

    #[test]
    fn one_alert_is_named_several_are_counted() {
        let a = transition(Status::Firing, "failing_source", "192.0.2.9", "spoofed");
        let b = transition(Status::Resolved, "tls_failures", "", "resolved: tls");
        assert_eq!(
            subject("example.com", &[&a]),
            "[dmarcflow] FIRING failing_source example.com: 192.0.2.9"
        );
        assert_eq!(
            subject("example.com", &[&a, &b]),
            "[dmarcflow] example.com: 1 firing, 1 resolved"
        );
        assert_eq!(
            body(&[&a, &b]),
            "FIRING failing_source (192.0.2.9)\n  spoofed\n  value: 3; since 2024-01-16 01:00 UTC\n\n\
             RESOLVED tls_failures\n  resolved: tls\n  value: 3; since 2024-01-16 01:00 UTC\n\n\
             -- \ndmarcflow alerts\n"
        );
        let text: serde_json::Value =
            serde_json::from_str(&slack("example.com", &[&a, &b])).unwrap_or_default();
        assert_eq!(
            text["text"],
            "*dmarcflow example.com*: 1 firing, 1 resolved\n\
             :rotating_light: FIRING [failing_source] spoofed\n\
             :white_check_mark: RESOLVED [tls_failures] resolved: tls"
        );
    }
}
