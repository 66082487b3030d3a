//! Dev-only support for the tests and benches of every crate, beside the
//! flow (`ingest -> parse -> schemas -> bus -> sink -> store`), never a
//! dependency of a shipped crate:
//! - [`corpus`]: where the shared corpus of real reports is (a failure
//!   under CI when it is missing, a skip elsewhere);
//! - [`ports`]: a free loopback port for a server a test starts;
//! - [`fixtures`]: small report emails written inline;
//! - [`generator`]: realistic report corpora at any scale, and the
//!   examples shipped in `examples/`;
//! - `sources` (feature `sources`): a recording bus, TLS and a loopback
//!   listener for the network sources' tests.
//!
//! Of the workspace it depends on `parse` alone (its MIME base64, for the
//! generator's emails), so any crate may take it as a dev-dependency
//! without pulling in the bus, the enricher, ingest or a store.

pub mod corpus;
pub mod fixtures;
pub mod generator;
pub mod ports;
#[cfg(feature = "sources")]
pub mod sources;

pub use generator::{
    email, write_report, write_report_salted, Attachment, Generator, Profile, Rng,
};
