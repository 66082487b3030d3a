//! Backfill from the file system: files, directories (recursively), maildirs
//! and mbox files, in a stable order.

mod discover;

pub use discover::{discover, Input, InputKind};

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
