//! Alerts: what the stores say a domain owner must act on.
//!
//! Data flows `ingest -> parse -> schemas -> bus -> sink -> store`; alerts read the
//! store (ClickHouse or SQLite, through its daily tables) after it:
//! - [`rules`]: the conditions, each a query per store dialect: a new
//!   source sending as the domain, the DMARC pass rate falling below its
//!   trailing baseline, a failing source's volume (spoofing in progress),
//!   TLS-RPT failure sessions and result types not seen before, the
//!   domain's published policy changing, failure reports arriving; and,
//!   from the posture watch's stored checks (`posture`): a published record
//!   changed, the score fell, SPF over its lookup limit, the MTA-STS
//!   policy failing, an MX certificate near its expiry, a DKIM key in use
//!   gone; and, from the TLS reports (`mta_sts`), an MTA-STS policy ready
//!   to enforce, and an enforced one with senders refusing delivery;
//! - [`state`]: what fired, kept in the store (`alert_state`) so a
//!   condition fires once, resolves when it clears and survives restarts;
//! - [`notify`]: what a round tells: a generic JSON webhook per alert,
//!   Slack-compatible text and e-mail per domain; sent by [`webhook`]
//!   (HTTP(S) POST) and [`email`] (an SMTP relay, lettre);
//! - [`evaluate`]: one round: rules, transitions against the state,
//!   notifications, the state written back.

pub mod config;
pub mod email;
mod enforcement;
pub mod evaluate;
mod mta_sts;
pub mod notify;
mod posture;
pub mod rules;
pub mod state;
pub mod webhook;

pub use config::{AlertsConfig, Email, EmailTls, Thresholds, Webhook, WebhookFormat};
pub use evaluate::{evaluate, Round, Transition};
pub use notify::Undelivered;
pub use rules::{Condition, Rule};

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Store(#[from] dmarcflow_store::StoreError),
    #[error(transparent)]
    Watch(#[from] dmarcflow_watch::WatchError),
    #[error(transparent)]
    Hosted(#[from] dmarcflow_hosted::HostedError),
    #[error("webhook {url}: {message}")]
    Webhook { url: String, message: String },
    #[error("e-mail through {relay}: {message}")]
    Email { relay: String, message: String },
    #[error("not a day (YYYY-MM-DD): {0:?}")]
    Day(String),
}
