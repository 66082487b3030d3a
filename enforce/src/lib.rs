//! The path to enforcement, after the store (ingest -> parse -> schemas ->
//! bus -> sink -> **store** -> enforce): from a domain's stored aggregate
//! records over a window, who sends as the domain and in which class
//! ([`class`]), what the next policy step would have done to that mail,
//! and whether the domain is ready for it ([`assessment`]).
//!
//! Why people run DMARC reporting at all is to move a domain from `p=none`
//! to `p=reject` without losing their own mail; this crate answers the two
//! questions that takes: who sends as the domain (each source named, by
//! the enrichment and the sender catalogue, and classified here), and what
//! enforcement would do to each of them. `dmarcflow report` opens with it,
//! the digests carry it, two alert rules watch it.
//!
//! The same question for MTA-STS ([`mta_sts`]): when a policy in `testing`
//! can become `enforce`, from the stored TLS reports.
//!
//! It reads through the store's SQL (both dialects) and asks the sender
//! catalogue what kind a sender is and how a customer aligns mail through
//! it; it writes nothing.

pub mod assessment;
pub mod class;
mod config;
pub mod mta_sts;
mod policy;
pub mod text;
mod traffic;

pub use assessment::{assess, classes_by_address, Assessment, Blocker, SenderClass, Verdict};
pub use class::SourceClass;
pub use config::EnforcementConfig;
pub use mta_sts::{StsReadiness, StsVerdict};
pub use policy::Policy;
pub use traffic::Traffic;

use dmarcflow_store::summary::{Backend, Scope};

/// Every query an assessment sends, by name (for checking them on other
/// server releases: `dmarcflow clickhouse-sql`).
pub fn queries(backend: Backend, scope: &Scope) -> [(&'static str, String); 3] {
    [
        (
            "enforcement by address",
            traffic::sql(backend, scope, traffic::Key::Address),
        ),
        (
            "enforcement traffic",
            traffic::sql(backend, scope, traffic::Key::Sender),
        ),
        ("enforcement policy", policy::sql(backend, scope)),
    ]
}
