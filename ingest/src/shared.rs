//! What a network source (SMTP/LMTP, HTTPS, IMAP) shares with every
//! connection it serves: its settings, the parser that turns a message into
//! reports, and the publisher that must acknowledge them.

use crate::files::FilesSource;

pub struct Shared<C, P> {
    pub config: C,
    pub source: FilesSource,
    pub publisher: P,
}

impl<C, P> Shared<C, P> {
    pub fn new(config: C, publisher: P) -> Self {
        Self {
            config,
            source: FilesSource::default(),
            publisher,
        }
    }
}
