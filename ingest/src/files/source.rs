//! The files source: every report of an input, detached from its buffers
//! and tagged with where it came from, or the reason it was rejected.
//! Streamed aggregate reports (over the stream threshold) never sit in
//! memory whole: their records are spilled to a temporary file while
//! parsing, then delivered in parts of at most `part_records` records
//! ([`dmarcflow_schemas::aggregate::Part`]), each part carrying the header.

use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};

use dmarcflow_parse::aggregate::{AggregateParser, EventSource, SliceSource};
use dmarcflow_parse::detect::Format;
use dmarcflow_parse::{stream_aggregate, Item, ParseError, Parser};
use dmarcflow_schemas::aggregate::{AggregateReport, Part, Record};
use dmarcflow_schemas::{Ingested, Rejected, Report};

use super::open::{open, Opened};
use super::{Input, MboxMessage};

/// What reading an input found, one at a time.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // reports are the common case; boxing them costs an allocation each
pub enum Found {
    Report(Ingested<'static>),
    Rejected(Rejected),
}

#[derive(Debug, Clone)]
pub struct FilesSource {
    pub parser: Parser,
    /// Raw reports larger than this are streamed.
    pub stream_threshold: u64,
    /// Largest email (or raw report that cannot be streamed) read; a larger
    /// one is rejected unread (`limit_exceeded`).
    pub max_message_bytes: u64,
    /// Aggregate XML in memory larger than this is read record by record
    /// and delivered in parts, like a streamed report: a report's records
    /// take several times the memory of their XML.
    pub parts_threshold: usize,
    /// Records per part for streamed reports.
    pub part_records: usize,
    /// `[privacy]`: what of a failure report's personal fields leaves
    /// here (every report is found through [`Ctx::found`], which applies
    /// it before anything else sees the report).
    pub privacy: dmarcflow_privacy::Privacy,
}

impl Default for FilesSource {
    fn default() -> Self {
        Self {
            parser: Parser::default(),
            stream_threshold: 64 << 20,
            max_message_bytes: 64 << 20,
            parts_threshold: 8 << 20,
            part_records: 100_000,
            privacy: dmarcflow_privacy::Privacy::clear(),
        }
    }
}

impl FilesSource {
    /// Reads one input, handing each report or rejection to `emit` as it is
    /// found; stops at the first error `emit` returns.
    pub fn read<E>(
        &self,
        input: &Input,
        received_at: i64,
        mut emit: impl FnMut(Found) -> Result<(), E>,
    ) -> Result<(), E> {
        let path = input.path.display().to_string();
        let ctx = Ctx {
            path: &path,
            received_at,
            privacy: &self.privacy,
        };
        let opened = match open(input, self.stream_threshold, self.max_message_bytes) {
            Ok(o) => o,
            Err(e) => return emit(ctx.reject(&path, &ParseError::Read(e.to_string()))),
        };
        match opened {
            Opened::Bytes(data) => self.bytes(&ctx, &data, &path, &mut emit),
            Opened::TooLarge { size, limit } => emit(ctx.reject(&path, &too_large(size, limit))),
            Opened::Mbox(mut reader) => {
                for n in 1.. {
                    let origin = format!("{path} #{n}");
                    match reader.next_message() {
                        Ok(None) => break,
                        Ok(Some(MboxMessage::Message(data))) => {
                            self.bytes(&ctx, &data, &origin, &mut emit)?
                        }
                        Ok(Some(MboxMessage::TooLarge { size })) => {
                            emit(ctx.reject(&origin, &too_large(size, self.max_message_bytes)))?
                        }
                        Err(e) => {
                            return emit(ctx.reject(&origin, &ParseError::Read(e.to_string())))
                        }
                    }
                }
                Ok(())
            }
            Opened::Stream(reader) => match stream_aggregate(reader, self.parser.limits) {
                Ok(parser) => self.parts(&ctx, &path, parser, &mut emit),
                Err(e) => emit(ctx.reject(&path, &e)),
            },
        }
    }

    /// Reads one message received over the network (SMTP, HTTPS, IMAP):
    /// `origin` names it in reports and rejections.
    pub fn read_message<E>(
        &self,
        data: &[u8],
        origin: &str,
        received_at: i64,
        mut emit: impl FnMut(Found) -> Result<(), E>,
    ) -> Result<(), E> {
        let ctx = Ctx {
            path: origin,
            received_at,
            privacy: &self.privacy,
        };
        self.bytes(&ctx, data, origin, &mut emit)
    }

    /// `read_message` on a blocking thread (parsing is CPU work the async
    /// listeners must not do inline): everything the message holds, or None
    /// when the thread failed.
    pub async fn read_message_blocking(
        &self,
        data: bytes::Bytes,
        origin: String,
        received_at: i64,
    ) -> Option<Vec<Found>> {
        let mut stream = self.read_message_channel(data, origin, received_at);
        let mut found = Vec::new();
        while let Some(f) = stream.recv().await {
            found.push(f);
        }
        stream.finish().await.then_some(found)
    }

    /// `read_message` on a blocking thread that hands over what it finds
    /// one at a time and waits while the receiver has not taken it (a
    /// report in parts is never in memory whole); dropping the receiver
    /// stops it.
    pub fn read_message_channel(
        &self,
        data: bytes::Bytes,
        origin: String,
        received_at: i64,
    ) -> FoundStream {
        let source = self.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let thread = tokio::task::spawn_blocking(move || {
            let _ = source.read_message(&data, &origin, received_at, |f| {
                tx.blocking_send(f).map_err(|_| ())
            });
        });
        FoundStream { rx, thread }
    }

    fn bytes<E>(
        &self,
        ctx: &Ctx<'_>,
        data: &[u8],
        origin: &str,
        emit: &mut impl FnMut(Found) -> Result<(), E>,
    ) -> Result<(), E> {
        for item in self.parser.extract(data, origin) {
            match item {
                Err(r) => emit(ctx.reject(&r.origin, &r.error))?,
                Ok(Item::Failure(report)) => emit(ctx.found(origin, Report::Failure(*report)))?,
                Ok(Item::Payload(p)) => match large_xml(&p, self.parts_threshold) {
                    Some(text) => {
                        let parser = AggregateParser::new(SliceSource::new(text))
                            .with_warnings(p.warnings.iter().cloned());
                        let spilled = spill_report(parser);
                        // The XML is not needed while the parts go out.
                        let origin = p.origin.to_string();
                        drop(p);
                        self.emit_parts(ctx, &origin, spilled, emit)?
                    }
                    None => match self.parser.parse_payload(&p) {
                        Ok(report) => emit(ctx.found(&p.origin, report))?,
                        Err(e) => emit(ctx.reject(&p.origin, &e))?,
                    },
                },
                Ok(Item::Stream(s)) => match self.parser.parse_stream(&s) {
                    Ok(parser) => self.parts(ctx, &s.origin, parser, emit)?,
                    Err(e) => emit(ctx.reject(&s.origin, &e))?,
                },
            }
        }
        Ok(())
    }

    /// A streamed report: records spilled to a temporary file, then
    /// delivered in parts once the header (which may follow them) is known.
    fn parts<'x, S: EventSource<'x>, E>(
        &self,
        ctx: &Ctx<'_>,
        origin: &str,
        parser: AggregateParser<'x, S>,
        emit: &mut impl FnMut(Found) -> Result<(), E>,
    ) -> Result<(), E> {
        let spilled = spill_report(parser);
        self.emit_parts(ctx, origin, spilled, emit)
    }

    /// Delivers a spilled report in parts of `part_records` records.
    fn emit_parts<E>(
        &self,
        ctx: &Ctx<'_>,
        origin: &str,
        spilled: Result<Spilled, ParseError>,
        emit: &mut impl FnMut(Found) -> Result<(), E>,
    ) -> Result<(), E> {
        let Spilled {
            file,
            header,
            total,
            messages,
        } = match spilled {
            Ok(s) => s,
            Err(e) => return emit(ctx.reject(origin, &e)),
        };
        let size = self.part_records.max(1) as u64;
        let count = total.div_ceil(size).max(1);
        let mut lines = BufReader::new(file).lines();
        for index in 0..count {
            let mut report: AggregateReport<'static> = header.clone();
            report.records = Vec::with_capacity(size.min(total) as usize);
            for line in lines.by_ref().take(size as usize) {
                let record = line.map_err(|e| e.to_string()).and_then(|l| {
                    serde_json::from_str::<Record<'_>>(&l)
                        .map(Record::into_owned)
                        .map_err(|e| e.to_string())
                });
                match record {
                    Ok(r) => report.records.push(r),
                    Err(e) => return emit(ctx.reject(origin, &ParseError::Read(e))),
                }
            }
            if count > 1 {
                report.part = Some(Part {
                    first_record: index * size,
                    total_records: total,
                    total_messages: messages,
                });
            }
            emit(ctx.found(origin, Report::Aggregate(report)))?;
        }
        Ok(())
    }
}

/// A report whose records wait in a temporary file (at its start).
struct Spilled {
    file: std::fs::File,
    header: AggregateReport<'static>,
    total: u64,
    messages: u64,
}

/// Reads a report to its end, its records into a temporary file: what it
/// reads from can be dropped before the parts are built.
fn spill_report<'x, S: EventSource<'x>>(
    mut parser: AggregateParser<'x, S>,
) -> Result<Spilled, ParseError> {
    let spilled = spill(&mut parser);
    let header = parser.finish();
    let (mut file, total, messages) = spilled.map_err(|e| ParseError::Read(e.to_string()))?;
    let header = header?.into_owned();
    file.rewind().map_err(|e| ParseError::Read(e.to_string()))?;
    Ok(Spilled {
        file,
        header,
        total,
        messages,
    })
}

/// The text of an aggregate XML payload over `threshold` bytes, to be read
/// in parts (valid UTF-8 after extraction; otherwise it is parsed whole,
/// which repairs it).
pub fn large_xml<'p>(
    p: &'p dmarcflow_parse::decompress::Payload<'_>,
    threshold: usize,
) -> Option<&'p str> {
    (p.format == Format::Xml && p.data.len() > threshold)
        .then(|| std::str::from_utf8(&p.data).ok())
        .flatten()
}

/// The rejection of an input over the one-message limit.
pub fn too_large(size: u64, limit: u64) -> ParseError {
    ParseError::LimitExceeded(format!(
        "input of {size} bytes is over the limit of {limit} bytes for one message"
    ))
}

/// Writes every record as a JSON line to a temporary file: the file (at its
/// end), the record count and the message total.
fn spill<'x, S: EventSource<'x>>(
    parser: &mut AggregateParser<'x, S>,
) -> io::Result<(std::fs::File, u64, u64)> {
    let mut out = BufWriter::new(tempfile::tempfile()?);
    let (mut records, mut messages) = (0u64, 0u64);
    for record in parser.by_ref() {
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
        records += 1;
        messages += record.count;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    Ok((file, records, messages))
}

/// What a message read on a blocking thread finds, as it is found.
pub struct FoundStream {
    rx: tokio::sync::mpsc::Receiver<Found>,
    thread: tokio::task::JoinHandle<()>,
}

impl FoundStream {
    /// The next find; None once the message is read.
    pub async fn recv(&mut self) -> Option<Found> {
        self.rx.recv().await
    }

    /// The finds as a stream, ending once the message is read.
    pub fn finds(&mut self) -> impl futures_util::Stream<Item = Found> + '_ {
        futures_util::stream::poll_fn(move |cx| self.rx.poll_recv(cx))
    }

    /// After the last find: whether the thread ended normally (false: it
    /// failed, and the finds may be incomplete).
    pub async fn finish(self) -> bool {
        self.thread.await.is_ok()
    }
}

struct Ctx<'p> {
    path: &'p str,
    received_at: i64,
    privacy: &'p dmarcflow_privacy::Privacy,
}

impl Ctx<'_> {
    /// A report found: detached, and a failure report protected as
    /// `[privacy]` says. A report that cannot be protected is rejected
    /// (its raw copy is protected in turn), never passed on in clear.
    fn found(&self, origin: &str, report: Report<'_>) -> Found {
        let mut report = report.into_owned();
        if let Report::Failure(failure) = &mut report {
            if let Err(e) = self.privacy.protect(failure) {
                return Found::Rejected(Rejected {
                    path: self.path.to_owned(),
                    origin: origin.to_owned(),
                    reason: "privacy",
                    error: e.to_string(),
                });
            }
        }
        Found::Report(Ingested {
            report,
            origin: origin.to_owned(),
            received_at: self.received_at,
            reporter: None,
        })
    }

    fn reject(&self, origin: &str, error: &ParseError) -> Found {
        Found::Rejected(Rejected {
            path: self.path.to_owned(),
            origin: origin.to_owned(),
            reason: error.class(),
            error: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{discover, InputKind};

    fn xml(records: usize) -> String {
        let record = "<record><row><source_ip>192.0.2.1</source_ip><count>2</count></row>\
<identifiers><header_from>example.com</header_from></identifiers><auth_results><spf>\
<domain>example.com</domain><result>pass</result></spf></auth_results></record>";
        format!(
            "<feedback>{}<report_metadata><org_name>Big</org_name><email>a@b</email>\
<report_id>r1</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata>\
<policy_published><domain>example.com</domain></policy_published></feedback>",
            record.repeat(records)
        )
    }

    #[test]
    fn streamed_reports_come_in_parts_with_the_header() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("big.xml");
        // Records before the header: the parts must still all carry it.
        std::fs::write(&path, xml(2500)).map_err(|e| e.to_string())?;
        let inputs = discover(&[&path]).map_err(|e| e.to_string())?;
        assert_eq!(inputs[0].kind, InputKind::Single);
        let source = FilesSource {
            stream_threshold: 0,
            part_records: 1000,
            ..FilesSource::default()
        };
        let mut parts = Vec::new();
        source.read(&inputs[0], 7, |found| {
            match found {
                Found::Report(r) => parts.push(r),
                Found::Rejected(r) => return Err(format!("{r:?}")),
            }
            Ok(())
        })?;
        assert_eq!(parts.len(), 3);
        let mut first_records = Vec::new();
        for p in &parts {
            let Report::Aggregate(r) = &p.report else {
                return Err("not aggregate".into());
            };
            assert_eq!(r.id, parts[0].report.id());
            assert_eq!(r.metadata.org_name, "Big");
            let part = r.part.ok_or("no part")?;
            assert_eq!((part.total_records, part.total_messages), (2500, 5000));
            first_records.push((part.first_record, r.records.len()));
            assert_eq!(p.received_at, 7);
        }
        assert_eq!(first_records, [(0, 1000), (1000, 1000), (2000, 500)]);
        Ok(())
    }

    #[test]
    fn a_small_streamed_report_is_one_report() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("small.xml");
        std::fs::write(&path, xml(3)).map_err(|e| e.to_string())?;
        let inputs = discover(&[&path]).map_err(|e| e.to_string())?;
        let source = FilesSource {
            stream_threshold: 0,
            ..FilesSource::default()
        };
        let mut found = Vec::new();
        source.read(&inputs[0], 0, |f| {
            found.push(f);
            Ok::<(), String>(())
        })?;
        match found.as_slice() {
            [Found::Report(Ingested {
                report: Report::Aggregate(r),
                ..
            })] => {
                assert!(r.part.is_none());
                assert_eq!(r.records.len(), 3);
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    }
}
