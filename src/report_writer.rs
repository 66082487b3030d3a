//! Writing reports and rejections as JSON lines.

use std::io::Write;

use anyhow::{Context, Result};
use dmarcflow_parse::aggregate::AggregateParser;
use dmarcflow_parse::aggregate::EventSource;
use dmarcflow_schemas::Report;
use serde::Serialize;

/// One rejected input, as written to the rejects stream.
#[derive(Serialize)]
pub struct RejectLine<'a> {
    pub path: &'a str,
    pub origin: &'a str,
    pub reason: &'a str,
    pub error: String,
}

pub fn write_report<W: Write>(out: &mut W, report: &Report<'_>) -> Result<()> {
    serde_json::to_writer(&mut *out, report).context("writing a report")?;
    out.write_all(b"\n")?;
    Ok(())
}

pub fn write_reject<W: Write>(out: &mut W, reject: &RejectLine<'_>) -> Result<()> {
    serde_json::to_writer(&mut *out, reject).context("writing a rejection")?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes a streamed aggregate report as one JSON line without holding its
/// records: `{"records":[...]` first, the header fields (known only at the
/// end) after. Returns the number of records, or the parse error when the
/// document yielded none (then nothing was written).
pub fn write_stream<'x, W: Write, S: EventSource<'x>>(
    out: &mut W,
    mut parser: AggregateParser<'x, S>,
    each: &mut dyn FnMut(&mut dmarcflow_schemas::aggregate::Record<'_>),
) -> Result<Result<u64, dmarcflow_parse::ParseError>> {
    let Some(mut first) = parser.next() else {
        return Ok(parser
            .finish()
            .map(|header| {
                // No records: an ordinary, empty report.
                let report = Report::Aggregate(header);
                write_report(out, &report).map(|_| 0)
            })
            .and_then(|r| r.map_err(|e| dmarcflow_parse::ParseError::Read(e.to_string()))));
    };
    out.write_all(b"{\"records\":[")?;
    each(&mut first);
    serde_json::to_writer(&mut *out, &first)?;
    let mut count = 1u64;
    for mut record in parser.by_ref() {
        each(&mut record);
        out.write_all(b",")?;
        serde_json::to_writer(&mut *out, &record)?;
        count += 1;
    }
    out.write_all(b"]")?;
    // With records read, finishing cannot fail: errors became warnings.
    let header = parser
        .finish()
        .map_err(|e| anyhow::anyhow!("finishing a streamed report: {e}"))?;
    let value = serde_json::to_value(Report::Aggregate(header))?;
    if let serde_json::Value::Object(map) = value {
        for (key, value) in map.iter().filter(|(k, _)| *k != "records") {
            out.write_all(b",")?;
            serde_json::to_writer(&mut *out, key)?;
            out.write_all(b":")?;
            serde_json::to_writer(&mut *out, value)?;
        }
    }
    out.write_all(b"}\n")?;
    Ok(Ok(count))
}
