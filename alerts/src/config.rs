//! What `[alerts]` configures: the evaluated period, the thresholds (with
//! per-domain overrides), the quiet period, where notifications go.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct AlertsConfig {
    /// Days evaluated, ending with the evaluation day (`window_days`).
    pub window_days: u32,
    /// Days before the window that make the baseline (`baseline_days`).
    pub baseline_days: u32,
    /// After a notification, the same condition is not notified again for
    /// this long (it may resolve and fire meanwhile: flapping stays quiet).
    pub quiet_period: Duration,
    pub defaults: Thresholds,
    /// Per policy domain, over `defaults`.
    pub domains: BTreeMap<String, Thresholds>,
    pub webhooks: Vec<Webhook>,
    /// E-mail through an SMTP relay.
    pub email: Option<Email>,
    /// How often the `run` and `sink` services evaluate the rules (None:
    /// only `dmarcflow alerts`, e.g. from cron).
    pub interval: Option<Duration>,
    /// The owners' approved senders and readiness threshold
    /// (`[enforcement]`, `[domains."<domain>"]`).
    pub enforcement: dmarcflow_enforce::EnforcementConfig,
    /// The sender catalogue: the fixes the approved-sender alert carries.
    pub catalogue: dmarcflow_senders::SenderMap,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            window_days: 1,
            baseline_days: 14,
            quiet_period: Duration::from_secs(6 * 3600),
            defaults: Thresholds::default(),
            domains: BTreeMap::new(),
            webhooks: Vec::new(),
            email: None,
            interval: None,
            enforcement: dmarcflow_enforce::EnforcementConfig::default(),
            catalogue: dmarcflow_senders::SenderMap::builtin(),
        }
    }
}

/// The thresholds of the rules; a rule whose threshold is 0 is off.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// A source first seen in the window with at least this many messages.
    pub new_source_messages: u64,
    /// New sources (or senders) of a domain named one by one in a round,
    /// the largest first; the rest are counted in one alert (0: no cap).
    pub new_source_max: u64,
    /// The window's DMARC pass rate this many points below the baseline's.
    pub pass_rate_drop_points: f64,
    /// ... when the window holds at least this many messages.
    pub pass_rate_min_messages: u64,
    /// One source's messages failing DMARC in the window.
    pub failing_source_messages: u64,
    /// TLS-RPT failed sessions in the window.
    pub tls_failed_sessions: u64,
    /// A TLS-RPT failure result type not seen in the baseline (1: on).
    pub tls_new_result_type: u64,
    /// The published policy (p, sp, pct, testing) changing (1: on).
    pub policy_change: u64,
    /// Failure reports (ruf) in the window.
    pub failure_reports: u64,
    /// An approved sender's messages failing DMARC in the window.
    pub approved_sender_failing: u64,
    /// The domain became ready for its next policy step (1: on; told once).
    pub domain_ready: u64,
    /// A published record's text changed between two posture checks (1: on).
    pub record_changed: u64,
    /// The posture score fell by at least this many points.
    pub score_drop_points: u64,
    /// SPF over its 10-lookup limit (1: on).
    pub spf_lookup_limit: u64,
    /// The MTA-STS policy unreachable or invalid (1: on).
    pub mta_sts_policy_failing: u64,
    /// An MX host's certificate within this many days of its expiry.
    pub mx_certificate_days: u64,
    /// A DKIM key the reports show signing no longer published (1: on).
    pub dkim_key_disappeared: u64,
    /// An MTA-STS policy in testing ready to enforce (1: on; told once).
    pub mta_sts_ready: u64,
    /// An enforced MTA-STS policy's failed sessions, per MX host and result.
    pub mta_sts_enforce_failures: u64,
    /// A hosted policy host's certificate not renewed (1: on).
    pub certificate_renewal_failed: u64,
    /// A flattened SPF chain changed (1: on; told once per change).
    pub spf_flattening_changed: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            new_source_messages: 1,
            new_source_max: 20,
            pass_rate_drop_points: 10.0,
            pass_rate_min_messages: 100,
            failing_source_messages: 100,
            tls_failed_sessions: 10,
            tls_new_result_type: 1,
            policy_change: 1,
            failure_reports: 1,
            approved_sender_failing: 1,
            domain_ready: 1,
            record_changed: 1,
            score_drop_points: 1,
            spf_lookup_limit: 1,
            mta_sts_policy_failing: 1,
            mx_certificate_days: 14,
            dkim_key_disappeared: 1,
            mta_sts_ready: 1,
            mta_sts_enforce_failures: 1,
            certificate_renewal_failed: 1,
            spf_flattening_changed: 1,
        }
    }
}

impl AlertsConfig {
    pub fn thresholds(&self, domain: &str) -> Thresholds {
        self.domains.get(domain).copied().unwrap_or(self.defaults)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Webhook {
    pub url: String,
    #[serde(default)]
    pub format: WebhookFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `{"status": "firing", "rule": ..., "domain": ..., ...}`.
    #[default]
    Json,
    /// `{"text": "..."}`, what Slack's (and Mattermost's) incoming
    /// webhooks take.
    Slack,
}

/// `[alerts.email]`: notifications mailed through an SMTP relay.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// `host:port` of the relay.
    pub relay: String,
    pub from: String,
    pub to: Vec<String>,
    /// `none` (a relay on this host), `starttls` or `tls`.
    #[serde(default)]
    pub tls: EmailTls,
    /// For a relay that wants authentication (the password from
    /// DMARCFLOW_ALERTS_SMTP_PASSWORD, never from the file).
    #[serde(default)]
    pub user: Option<String>,
    #[serde(skip)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTls {
    #[default]
    None,
    Starttls,
    Tls,
}
