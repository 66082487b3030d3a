//! What the parser saw of a document, for the checks once it is read
//! (`finish`): shared by the state machine that fills it and the checks
//! that read it, so neither module depends on the other.

/// What the document had, for the checks at the end.
#[derive(Default)]
pub(crate) struct Seen {
    pub root: bool,
    /// The first element, when it was not `<feedback>`.
    pub outer: Option<String>,
    pub date_range: bool,
    pub records: u64,
}
