//! Posture watch, after the store (ingest -> parse -> schemas -> bus ->
//! sink -> **store** -> watch; beside `enforce`): the domains the store has
//! reports for, and the configured ones, re-checked on a schedule
//! (`[posture]`) with [`dmarcflow_posture`], each check written to the
//! store (`domain_checks`, both stores) with the DKIM selectors the
//! reports show in use and the enforcement verdict the report data gives,
//! and what changed from one check to the next ([`changes`]) for the alert
//! rules.
//!
//! The posture crate reads the DNS and the web and no store; the store
//! knows nothing of postures. This crate joins them: what a check needs
//! from the store ([`reports`]), a check as a row ([`encoder`]) and back
//! ([`history`]), one round ([`round`]).

pub mod changes;
mod config;
pub mod encoder;
pub mod history;
pub mod reports;
pub mod round;

pub use changes::{changes, Change, ChangeRule};
pub use config::WatchConfig;
pub use history::{latest, StoredCheck};
pub use round::round;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Store(#[from] dmarcflow_store::StoreError),
}
