//! Storage, the end of the flow (ingest -> parse -> schemas -> bus -> sink -> **store**):
//! normalised reports ([`dmarcflow_schemas::Ingested`]) become rows that
//! analysts query with SQL and Grafana draws.
//!
//! Two stores with the same logical tables, the same three daily
//! aggregations and the same guarantee that a report delivered twice is
//! stored once:
//! - [`clickhouse`]: the scale-out sink (RowBinary inserts, lz4, batching,
//!   retries, per-batch dedup); DDL in `schemas/clickhouse/`.
//! - [`sqlite`]: the embedded default (one file, one transaction per batch,
//!   unique keys); DDL in `schemas/sqlite/`.
//!
//! [`Store`] picks one from the configuration; [`summary`] holds the
//! per-source and per-result tables that `dmarcflow report` prints;
//! [`dialect`] is where the two stores' SQL differs, for every crate that
//! builds queries (alerts, digests).

pub mod batch;
pub mod clickhouse;
pub mod dialect;
mod error;
mod personal;
mod secret;
pub mod sqlite;
mod store;
pub mod summary;
mod table;
mod values;
mod version;
mod write_summary;

pub use batch::{BatchConfig, Batcher};
pub use error::StoreError;
pub use personal::PersonalRow;
pub use secret::Secret;
pub use store::{Store, StoreConfig};
pub use table::Table;
pub use version::version_now;
pub use write_summary::WriteSummary;
