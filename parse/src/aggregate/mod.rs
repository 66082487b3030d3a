//! DMARC aggregate reports (RFC 7489 appendix C, RFC 9990): a tolerant,
//! streaming XML parser that borrows its text from the document.

mod fast;
mod fields;
mod finish;
mod parse;
mod scanner;
mod seen;
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
    let mut records = Vec::with_capacity(expected_records(xml));
    while parser.next_into(&mut records) {}
    let mut report = parser.finish()?;
    report.records = records;
    Ok(report)
}

/// How many records a report of this size holds, judged by its first
/// record with a quarter to spare: regrowing the vector copies every record
/// already parsed, which costs more than the slack. No record counts as
/// shorter than 200 bytes (the smallest real ones), which bounds the
/// reservation for a hostile report to about 1.7 times its size.
fn expected_records(xml: &str) -> usize {
    let bytes = xml.as_bytes();
    let Some(start) = memchr::memmem::find(bytes, b"<record") else {
        return 0;
    };
    let first = memchr::memmem::find(&bytes[start..], b"</record>").unwrap_or(bytes.len());
    let per_record = (first + 9).max(200);
    (bytes.len() - start) * 5 / 4 / per_record + 1
}

/// A streaming parser over UTF-8 text; see [`crate::stream_aggregate`] for
/// any bytes (compressed, other encodings).
pub fn stream_utf8<R: BufRead>(input: R) -> AggregateParser<'static, StreamSource<R>> {
    AggregateParser::new(StreamSource::new(input))
}

#[cfg(test)]
mod tests;
