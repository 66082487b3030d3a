//! DMARC aggregate reports (RFC 7489 appendix C, RFC 9990): a tolerant,
//! streaming XML parser that borrows its text from the document.

mod events;
mod fields;
mod finish;
mod parse;
mod tag;

use std::io::BufRead;

use dmarcflow_schemas::AggregateReport;

pub use events::{EventSource, SliceSource, StreamSource};
pub use parse::AggregateParser;

use crate::ParseError;

/// Parses a whole report held in memory; every text borrows from `xml`
/// unless it needed unescaping.
pub fn parse_aggregate(xml: &str) -> Result<AggregateReport<'_>, ParseError> {
    parse_aggregate_with(xml, Vec::new())
}

/// As [`parse_aggregate`], with warnings from earlier stages.
pub fn parse_aggregate_with(
    xml: &str,
    warnings: Vec<String>,
) -> Result<AggregateReport<'_>, ParseError> {
    let mut parser = AggregateParser::new(SliceSource::new(xml)).with_warnings(warnings);
    let records: Vec<_> = parser.by_ref().collect();
    let mut report = parser.finish()?;
    report.records = records;
    Ok(report)
}

/// A streaming parser over UTF-8 text; see [`crate::stream_aggregate`] for
/// any bytes (compressed, other encodings).
pub fn stream_utf8<R: BufRead>(input: R) -> AggregateParser<'static, StreamSource<R>> {
    AggregateParser::new(StreamSource::new(input))
}

#[cfg(test)]
mod tests;
