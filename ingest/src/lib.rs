//! Sources: where report bytes come from, before `parse` turns them into
//! reports and the bus carries them to a store.
//!
//! Data flows `ingest -> parse -> schemas -> bus -> sink -> store`. This crate
//! holds the backfill source ([`files`]: files, directories, maildirs and
//! mbox), the IMAP source ([`imap`]), the SMTP/LMTP listener ([`smtp`]) and
//! the HTTPS TLS-RPT endpoint ([`http`]), each acknowledging a message only
//! once what it produced is durable. The listeners accept through
//! `dmarcflow-listen` (caps, refusals, timeouts, accept errors), and every
//! network source draws on its memory budget.

pub use dmarcflow_listen::budget;
pub mod files;
pub mod http;
pub mod imap;
mod shared;
pub mod smtp;
pub mod source_metrics;

pub use budget::MemoryBudget;
pub use shared::{Carrier, Delivered, Shared, Undelivered};

/// Unix seconds now: the `received_at` a source stamps on what it reads.
pub fn received_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
