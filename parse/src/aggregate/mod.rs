//! DMARC aggregate reports (RFC 7489 appendix C, RFC 9990): a tolerant,
//! streaming XML parser that borrows its text from the document.

mod fast;
mod fields;
mod finish;
mod parse;
mod scanner;
mod tag;

use std::io::BufRead;

use dmarcflow_schemas::AggregateReport;

pub use parse::AggregateParser;
pub use scanner::{EventSource, SliceSource, StreamSource, Token};

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
    // A record takes 300 to 900 bytes of XML: reserve for the smaller, so
    // the vector rarely regrows (bounded, the input is in memory anyway).
    let mut records = Vec::with_capacity(xml.len() / 300);
    records.extend(parser.by_ref());
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
