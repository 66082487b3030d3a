//! One input, start to end: extract payloads, then parse each.

use std::borrow::Cow;
use std::io::BufRead;

use dmarcflow_schemas::{AggregateReport, Report};

use crate::aggregate::{parse_aggregate_with, AggregateParser, StreamSource};
use crate::decompress::{
    io_to_parse, unpack_within, xml_reader, Budget, Codec, Payload, Rejection, StreamPayload,
    Unpacked,
};
use crate::detect::{sniff, Format};
use crate::item::{Extracted, Item};
use crate::text::{as_utf8, to_utf8, Utf8Reader};
use crate::tlsrpt::parse_tlsrpt_with;
use crate::{mime, Limits, ParseError};

/// The parser, configured with its limits.
#[derive(Debug, Clone, Default)]
pub struct Parser {
    pub limits: Limits,
}

/// A streaming aggregate parser over any reader.
pub type StreamParser<'r> =
    AggregateParser<'static, StreamSource<Utf8Reader<Box<dyn BufRead + 'r>>>>;

impl Parser {
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }

    /// Finds every payload in `input` (an email, or raw XML/JSON/gzip/zip);
    /// `origin` names it in rejections.
    pub fn extract<'a>(&self, input: &'a [u8], origin: &str) -> Extracted<'a> {
        if input.iter().all(u8::is_ascii_whitespace) {
            return vec![Err(Rejection {
                origin: origin.to_owned(),
                error: ParseError::Empty,
            })];
        }
        // One budget for everything the input decompresses in memory.
        let mut budget = Budget::new(self.limits);
        let mut items: Extracted<'a> = match sniff(input) {
            Format::Email => mime::extract_email(input, origin, self.limits, &mut budget),
            _ => unpack_within(
                Cow::Borrowed(input),
                origin.to_owned(),
                self.limits,
                &mut budget,
            )
            .into_iter()
            .map(|r| {
                r.map(|u| match u {
                    Unpacked::Payload(p) => Item::Payload(p),
                    Unpacked::Stream(s) => Item::Stream(s),
                })
            })
            .collect(),
        };
        for item in items.iter_mut().flatten() {
            if let Item::Payload(p) = item {
                if p.format == Format::Xml {
                    p.data = to_utf8(std::mem::take(&mut p.data), &mut p.warnings);
                }
            }
        }
        items
    }

    /// Parses an in-memory payload; the report borrows from it.
    pub fn parse_payload<'p>(&self, payload: &'p Payload<'_>) -> Result<Report<'p>, ParseError> {
        match payload.format {
            Format::Xml => {
                let mut warnings = payload.warnings.clone();
                match as_utf8(&payload.data, &mut warnings) {
                    Cow::Borrowed(text) => parse_aggregate_with(text, warnings),
                    // Rare: the report cannot borrow from the repaired text.
                    Cow::Owned(text) => {
                        parse_aggregate_with(&text, warnings).map(AggregateReport::into_owned)
                    }
                }
                .map(Report::Aggregate)
            }
            Format::Json => {
                parse_tlsrpt_with(&payload.data, payload.warnings.clone()).map(Report::Tlsrpt)
            }
            other => Err(ParseError::NotAReport(format!("{} payload", other.name()))),
        }
    }

    /// A streaming parser for a payload too large for memory.
    pub fn parse_stream<'s>(
        &self,
        stream: &'s StreamPayload<'_>,
    ) -> Result<StreamParser<'s>, ParseError> {
        stream_reader(stream.reader(self.limits)?)
    }

    /// Every report of one input, collected: a convenience over
    /// [`Parser::extract`] and [`Parser::parse_payload`] that detaches the
    /// reports from the input (stream payloads are collected in memory).
    pub fn parse_all(&self, input: &[u8], origin: &str) -> Vec<Result<Report<'static>, Rejection>> {
        let mut out = Vec::new();
        for item in self.extract(input, origin) {
            let result =
                match item {
                    Err(r) => Err(r),
                    Ok(Item::Failure(f)) => Ok(Ok(Report::Failure(*f).into_owned())),
                    Ok(Item::Payload(p)) => Ok(self
                        .parse_payload(&p)
                        .map(Report::into_owned)
                        .map_err(|error| Rejection {
                            origin: p.origin.clone(),
                            error,
                        })),
                    Ok(Item::Stream(s)) => Ok(self.collect_stream(&s).map_err(|error| Rejection {
                        origin: s.origin.clone(),
                        error,
                    })),
                };
            out.push(result.and_then(|r| r));
        }
        out
    }

    fn collect_stream(&self, s: &StreamPayload<'_>) -> Result<Report<'static>, ParseError> {
        let mut parser = self.parse_stream(s)?;
        let records: Vec<_> = parser.by_ref().collect();
        let mut report = parser.finish()?;
        report.records = records;
        Ok(Report::Aggregate(report.into_owned()))
    }
}

/// Streams an aggregate report from any reader: plain, gzip or zlib bytes,
/// any declared encoding. Memory stays bounded whatever the size.
pub fn stream_aggregate<'r, R: BufRead + 'r>(
    mut input: R,
    limits: Limits,
) -> Result<StreamParser<'r>, ParseError> {
    let head = input.fill_buf().map_err(|e| io_to_parse(e, "read"))?;
    let reader: Box<dyn BufRead + 'r> = match sniff(head) {
        Format::Gzip => xml_reader(Box::new(input), Codec::Gzip, limits)?,
        Format::Zlib => xml_reader(Box::new(input), Codec::Zlib, limits)?,
        Format::Xml => Box::new(input),
        Format::Zip => {
            return Err(ParseError::NotAReport(
                "zip archives are read from memory, not streamed".into(),
            ))
        }
        other => {
            return Err(ParseError::NotAReport(format!(
                "cannot stream a {} input as an aggregate report",
                other.name()
            )))
        }
    };
    stream_reader(reader)
}

fn stream_reader<'r>(reader: Box<dyn BufRead + 'r>) -> Result<StreamParser<'r>, ParseError> {
    let utf8 = Utf8Reader::new(reader).map_err(|e| io_to_parse(e, "stream"))?;
    let warning = utf8
        .replaced
        .then(|| "converted from a declared non-UTF-8 encoding".to_string());
    Ok(AggregateParser::new(StreamSource::new(utf8)).with_warnings(warning))
}
