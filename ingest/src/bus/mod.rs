//! The bus between sources and stores: the in-process bus (a bounded channel:
//! a slow store slows the sources down instead of filling memory) for one
//! process, its acknowledged form for network sources in one process
//! (`acked`), Kafka for sources and sinks running as separate services.

mod acked;
mod in_process;
pub mod kafka;
mod metered;
mod publish;

pub use acked::{in_process_acked, AckedPublisher, AckedSubscriber, DeadLetterFile, Delivery};
pub use in_process::{in_process, Publisher, Subscriber};
pub use metered::{received, source_error, Metered};
pub use publish::Publish;
