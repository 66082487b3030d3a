//! Backfill from the file system: files, directories (recursively), maildirs
//! and mbox files, in a stable order (`discover`), opened (`open`) and read
//! into reports (`source`); `backfill` drives them into Kafka, resumably.

pub mod backfill;
mod discover;
mod mbox;
mod open;
mod source;

pub use discover::{discover, Input, InputKind};
pub use dmarcflow_schemas::Rejected;
pub use mbox::{MboxMessage, MboxReader};
pub use open::{open, Opened};
pub use source::{large_xml, too_large, FilesSource, Found, FoundStream};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum FilesError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
