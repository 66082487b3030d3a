//! The Kafka side of the store: the sink service that consumes the report
//! topics into a store (`service`), and its configuration (`config`).

mod config;
mod lag;
mod service;

pub use config::KafkaSinkConfig;
pub use service::{SinkError, SinkService, SinkSummary, Until};
