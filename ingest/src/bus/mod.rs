//! The bus between sources and stores. Today the in-process bus (a bounded
//! channel: a slow store slows the sources down instead of filling memory);
//! Kafka joins it for running sources and sinks as separate services.

mod in_process;

pub use in_process::{in_process, Publisher, Subscriber};
