//! The sink, the stage between the bus and the store (ingest -> parse ->
//! schemas -> bus -> **sink** -> store): `dmarcflow sink` (and `run` with
//! Kafka) consumes the report topics in a consumer group
//! (`dmarcflow_bus::KafkaConsumer`), enriches the reports that arrive
//! without their sources' enrichment (`[enrich]`), writes each batch
//! through the configured store under the consumer's lease
//! (`dmarcflow_lease::Lease`), and commits offsets only once the store
//! confirmed the batch.

mod service;

pub use service::{SinkError, SinkService, SinkSummary, Until};
