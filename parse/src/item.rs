//! What one input yields before parsing: the type shared by the email
//! walker (`mime`) that finds items and the pipeline that parses them.

use dmarcflow_schemas::FailureReport;

use crate::decompress::{Payload, Rejection, StreamPayload};

/// What an input yields before parsing.
#[derive(Debug)]
pub enum Item<'a> {
    /// An XML or JSON document in memory.
    Payload(Payload<'a>),
    /// A compressed aggregate report too large for memory.
    Stream(StreamPayload<'a>),
    /// A failure report, parsed straight from the email's MIME tree.
    Failure(Box<FailureReport<'a>>),
}

/// All the items of one input, each a report-to-be or the reason it is not.
pub type Extracted<'a> = Vec<Result<Item<'a>, Rejection>>;
