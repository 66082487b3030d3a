//! The bus: how reports travel from the sources to the stores.
//!
//! Data flows `ingest -> parse -> schemas -> bus -> sink -> store`. `ingest` hands
//! what it parsed to a [`Publish`]er and acknowledges its input once the
//! future resolves; `store` takes reports off the bus and tells it when they
//! are durable. Between one process and a fleet the bus is one of:
//! - Kafka (`config`, `topics`, `producer`, `consumer`): the topic names,
//!   keys and headers of `dmarcflow_schemas::message`, one client
//!   configuration for both sides, an idempotent `acks=all` producer whose
//!   futures resolve on the broker's acknowledgement, and a group consumer
//!   that commits offsets only after the store confirmed them;
//! - the in-process bus (`in_process`, `acked`): a bounded channel, and its
//!   acknowledged form in which every report carries a one-shot the store
//!   answers once the batch holding it is written.
//!
//! [`Metered`] counts what any of them carries, per source.

mod acked;
mod config;
mod consumer;
mod error;
mod in_process;
mod lag;
mod metered;
mod producer;
mod publish;
mod topics;

pub use acked::{in_process_acked, AckedPublisher, AckedSubscriber, DeadLetterFile, Delivery};
pub use config::KafkaConfig;
pub use consumer::{Checkpoint, Confirmer, Consumed, KafkaConsumer};
pub use dmarcflow_lease::{Lease, LeaseLost};
pub use error::BusError;
pub use in_process::{in_process, Closed, Publisher, Subscriber};
pub use metered::Metered;
pub use producer::KafkaPublisher;
pub use publish::Publish;
pub use topics::ensure_topics;
