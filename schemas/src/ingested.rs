//! A report as a source delivered it: the normalised report plus where it
//! came from and when, which the stores keep as ingest metadata.

use serde::{Deserialize, Serialize};

use crate::{Report, ReporterAuth};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ingested<'a> {
    #[serde(borrow)]
    pub report: Report<'a>,
    /// Where the report was found: a path (and the part inside it), a
    /// mailbox and UID, a peer address.
    pub origin: String,
    /// Unix seconds when the source received it.
    pub received_at: i64,
    /// Whether the email that carried it is the reporter's own; `None`
    /// when not checked.
    pub reporter: Option<ReporterAuth>,
}

impl Ingested<'_> {
    pub fn into_owned(self) -> Ingested<'static> {
        Ingested {
            report: self.report.into_owned(),
            origin: self.origin,
            received_at: self.received_at,
            reporter: self.reporter,
        }
    }
}
