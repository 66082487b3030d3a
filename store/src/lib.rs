//! Sinks: the last stage of `ingest -> parse -> schemas -> bus -> store`.
//!
//! Reports arrive here as the normalised types of `dmarcflow-schemas` (from
//! Kafka, or from the in-process bus) and become rows: in ClickHouse at
//! scale, or in the embedded SQLite store by default, with the same tables,
//! the same per-source and per-result aggregations and the same guarantee
//! that a report delivered twice is stored once (dedup on the report
//! identity). This crate is empty until the storage work lands.
