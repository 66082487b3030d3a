//! Dev-only support for the tests and benches of every crate, beside the
//! flow (`ingest -> parse -> schemas -> bus -> sink -> store`), never a
//! dependency of a shipped crate:
//! - [`corpus`]: where the shared corpus of real reports is (a failure
//!   under CI when it is missing, a skip elsewhere);
//! - [`ports`]: a free loopback port for a server a test starts;
//! - [`fixtures`]: small report emails written inline;
//! - [`generator`]: realistic report corpora at any scale, and the
//!   examples shipped in `examples/`;
//! - [`reports`]: the corpus parsed into the contract's types, and made-up
//!   aggregate reports, for the crates after `parse`;
//! - [`services`]: the real services from the environment (a skip, or a
//!   failure under CI, when one is missing);
//! - [`knot`]: an authoritative DNS server serving the zones a test writes;
//! - `clickhouse` (feature `store`): a fresh, migrated ClickHouse database
//!   for tests run on both stores;
//! - `dkim` (feature `dkim`): keys from seeds and signed mail;
//! - `pki`, `nginx`, `mx_hosts`, `unbound` (feature `pki`): a test CA, the
//!   web and SMTP servers that present its certificates, and a recursive
//!   resolver in front of the test zones (posture, hosted MTA-STS);
//! - `sources` (feature `sources`): a recording bus, TLS and a loopback
//!   listener for the network sources' tests.
//!
//! Of the workspace it depends on `parse` and `schemas` alone, so any crate
//! may take it as a dev-dependency without pulling in the bus, the
//! enricher, ingest or a store.

#[cfg(feature = "store")]
pub mod clickhouse;
pub mod corpus;
#[cfg(feature = "dkim")]
pub mod dkim;
pub mod fixtures;
pub mod generator;
pub mod knot;
#[cfg(feature = "pki")]
pub mod mx_hosts;
#[cfg(feature = "pki")]
pub mod nginx;
#[cfg(feature = "pki")]
pub mod pki;
pub mod ports;
pub mod reports;
pub mod services;
#[cfg(feature = "sources")]
pub mod sources;
#[cfg(feature = "pki")]
pub mod unbound;

pub use generator::{
    email, write_report, write_report_salted, Attachment, Generator, Profile, Rng,
};
