//! What the dead-letter path carries for an input that did not yield a
//! report: where it came from and why it was refused (a `ParseError` class
//! from `parse`, or a source's own reason). On Kafka these travel as the
//! `dmarcflow-origin`, `dmarcflow-reason` and `dmarcflow-error` headers
//! ([`crate::message::header`]); in the dead-letter file as JSON fields.

/// An input that did not yield a report, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The file.
    pub path: String,
    /// Where inside it (an mbox message, a MIME part, a zip member).
    pub origin: String,
    /// The reason class (`ParseError::class`).
    pub reason: &'static str,
    pub error: String,
}
