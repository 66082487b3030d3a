//! The bus between sources and stores: the in-process bus (a bounded channel:
//! a slow store slows the sources down instead of filling memory) for one
//! process, Kafka for sources and sinks running as separate services.

mod in_process;
pub mod kafka;
mod publish;

pub use in_process::{in_process, Publisher, Subscriber};
pub use publish::Publish;
