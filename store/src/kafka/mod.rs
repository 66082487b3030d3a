//! The Kafka side of the store: the sink service that consumes the report
//! topics (through `dmarcflow_bus::KafkaConsumer`) into a store.

mod service;

pub use service::{SinkError, SinkService, SinkSummary, Until};
