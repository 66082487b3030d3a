//! Source intelligence: who is behind an address a report names.
//!
//! Data flows `ingest -> parse -> schemas -> bus -> sink -> store`; enrichment sits
//! after `parse`, where a source (and the sink, for reports that arrived
//! without it) adds to every source address what an analyst would look up
//! by hand:
//! - [`reverse_dns`]: the PTR name, forward-confirmed, through an async
//!   resolver with a cache and a timeout;
//! - [`network`]: ASN, AS name, AS domain and country from the MMDB files
//!   the user points at (IPinfo Lite, MaxMind GeoLite2 ASN/Country/City,
//!   DB-IP Lite ASN/Country/City, each with its own field layout);
//! - [`base_domain`]: the registrable domain of a host name, from the Public
//!   Suffix List (compiled in, or a list file the user keeps up to date);
//! - the sender catalogue (`dmarcflow_senders`): who sends from a PTR
//!   domain, a network, a DKIM signing domain or a bounce domain;
//! - [`Enricher`]: all of them together, an address in and its
//!   `dmarcflow_schemas::Source` out; [`identify`] then names a record's
//!   source from what the record itself carries (its passing DKIM and SPF
//!   domains) where the address alone did not, and, last, after its
//!   network's organisation;
//! - [`report_auth`]: whether a report email is the reporter's own (its
//!   DKIM signatures, through the same resolver, against the reporter's
//!   domain).

pub mod base_domain;
mod config;
mod enricher;
mod identify;
pub mod network;
pub mod report_auth;
pub mod reverse_dns;
mod source_cache;
pub mod stage;

pub use base_domain::SuffixList;
pub use config::{system_nameservers, EnrichConfig};
pub use dmarcflow_senders::{Sender, SenderKind, SenderMap};
pub use enricher::{Enricher, Unauthenticated};
pub use network::{Network, NetworkDatabases};
pub use report_auth::{Envelope, ReportVerifier, Signatures};
pub use reverse_dns::{DnsConfig, DnsError, Ptr, ReverseDns};
pub use source_cache::SourceCache;
pub use stage::Enrichable;

/// A configured source of facts that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("{path}: {error}")]
    Mmdb {
        path: String,
        error: maxminddb::MaxMindDbError,
    },
    #[error("{path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error(transparent)]
    Senders(#[from] dmarcflow_senders::CatalogueError),
    #[error("[enrich] dns: {0}")]
    Dns(#[from] DnsError),
}
