//! `dmarcflow parse`: inputs from the files source, through the parser, to
//! JSON lines.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use dmarcflow_ingest::files::{
    discover, large_xml, open, too_large, FilesSource, Input, MboxMessage, Opened,
};
use dmarcflow_parse::aggregate::{AggregateParser, SliceSource};
use dmarcflow_parse::{stream_aggregate, Item, Limits, ParseError, Parser};
use indicatif::{ProgressBar, ProgressStyle};

use crate::report_writer::{write_reject, write_report, write_stream, RejectLine};

#[derive(clap::Args)]
pub struct ParseArgs {
    /// Files or directories (walked recursively): .eml, .mbox, maildirs,
    /// raw .xml/.gz/.zip/.json.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write rejected inputs here (JSON lines) instead of to stderr.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Most bytes one report may decompress to.
    #[arg(long, default_value_t = dmarcflow_parse::Limits::default().max_decompressed)]
    pub max_decompressed: u64,
    /// Most decompressed bytes per compressed byte.
    #[arg(long, default_value_t = dmarcflow_parse::Limits::default().max_ratio)]
    pub max_ratio: u64,
    /// Raw files larger than this are parsed as streams.
    #[arg(long, default_value_t = 64 << 20)]
    pub stream_threshold: u64,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub inputs: u64,
    pub reports: u64,
    pub rejected: u64,
}

struct Run<'o> {
    parser: Parser,
    /// `[enrich]`: who each source address is, looked up before writing.
    enrich: Option<crate::enrichment::Enrichment>,
    out: BufWriter<io::StdoutLock<'o>>,
    rejects: Box<dyn Write>,
    summary: Summary,
}

pub fn run(args: &ParseArgs, enrich: Option<&dmarcflow_enrich::EnrichConfig>) -> Result<Summary> {
    let enrich = enrich
        .map(crate::enrichment::Enrichment::open)
        .transpose()?;
    let inputs = discover(&args.paths)?;
    let limits = Limits {
        max_decompressed: args.max_decompressed,
        max_ratio: args.max_ratio,
        ..Limits::default()
    };
    let rejects: Box<dyn Write> = match &args.rejects {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(io::stderr()),
    };
    let mut run = Run {
        parser: Parser::new(limits),
        enrich,
        out: BufWriter::with_capacity(1 << 20, io::stdout().lock()),
        rejects,
        summary: Summary::default(),
    };
    let progress = progress_bar(&inputs, args.no_progress);
    for input in &inputs {
        run.summary.inputs += 1;
        run.input(input, args.stream_threshold)?;
        progress.inc(input.size);
    }
    progress.finish_and_clear();
    run.out.flush()?;
    run.rejects.flush()?;
    Ok(run.summary)
}

fn progress_bar(inputs: &[Input], disabled: bool) -> ProgressBar {
    let total: u64 = inputs.iter().map(|i| i.size).sum();
    if disabled || !io::stderr().is_terminal() || (total < 64 << 20 && inputs.len() < 1000) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

impl Run<'_> {
    fn input(&mut self, input: &Input, stream_threshold: u64) -> Result<()> {
        let path = input.path.display().to_string();
        let max_message = FilesSource::default().max_message_bytes;
        match open(input, stream_threshold, max_message) {
            Err(e) => self.reject(&path, &path, &ParseError::Read(e.to_string())),
            Ok(Opened::Stream(reader)) => self.stream(&path, reader),
            Ok(Opened::Bytes(data)) => self.bytes(&path, &data, &path),
            Ok(Opened::TooLarge { size, limit }) => {
                self.reject(&path, &path, &too_large(size, limit))
            }
            Ok(Opened::Mbox(mut reader)) => {
                for n in 1.. {
                    let origin = format!("{path} #{n}");
                    match reader.next_message() {
                        Ok(None) => break,
                        Ok(Some(MboxMessage::Message(data))) => {
                            self.bytes(&path, &data, &origin)?
                        }
                        Ok(Some(MboxMessage::TooLarge { size })) => {
                            self.reject(&path, &origin, &too_large(size, max_message))?
                        }
                        Err(e) => {
                            return self.reject(&path, &origin, &ParseError::Read(e.to_string()))
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn bytes(&mut self, path: &str, data: &[u8], origin: &str) -> Result<()> {
        for item in self.parser.extract(data, origin) {
            match item {
                Err(r) => self.reject(path, &r.origin, &r.error)?,
                Ok(Item::Failure(report)) => {
                    self.report(&dmarcflow_schemas::Report::Failure(*report))?
                }
                Ok(Item::Payload(p)) => match large_xml(&p, FilesSource::default().parts_threshold)
                {
                    // Record by record: the records of a large report take
                    // several times the memory of its XML.
                    Some(text) => {
                        let parser = AggregateParser::new(SliceSource::new(text))
                            .with_warnings(p.warnings.iter().cloned());
                        self.write_streamed(path, &p.origin, parser)?
                    }
                    None => match self.parser.parse_payload(&p) {
                        Ok(report) => self.report(&report)?,
                        Err(e) => self.reject(path, &p.origin, &e)?,
                    },
                },
                Ok(Item::Stream(s)) => match self.parser.parse_stream(&s) {
                    Ok(parser) => self.write_streamed(path, &s.origin, parser)?,
                    Err(e) => self.reject(path, &s.origin, &e)?,
                },
            }
        }
        Ok(())
    }

    fn stream<R: io::BufRead>(&mut self, path: &str, reader: R) -> Result<()> {
        match stream_aggregate(reader, self.parser.limits) {
            Ok(parser) => self.write_streamed(path, path, parser),
            Err(e) => self.reject(path, path, &e),
        }
    }

    fn write_streamed<'x, S: dmarcflow_parse::aggregate::EventSource<'x>>(
        &mut self,
        path: &str,
        origin: &str,
        parser: dmarcflow_parse::aggregate::AggregateParser<'x, S>,
    ) -> Result<()> {
        let enrich = &self.enrich;
        let mut each = |record: &mut dmarcflow_schemas::aggregate::Record<'_>| {
            if let Some(e) = enrich {
                e.record(record);
            }
        };
        match write_stream(&mut self.out, parser, &mut each)? {
            Ok(_) => {
                self.summary.reports += 1;
                Ok(())
            }
            Err(e) => self.reject(path, origin, &e),
        }
    }

    fn report(&mut self, report: &dmarcflow_schemas::Report<'_>) -> Result<()> {
        self.summary.reports += 1;
        match &self.enrich {
            Some(e) => {
                let mut report = report.clone();
                e.report(&mut report);
                write_report(&mut self.out, &report)
            }
            None => write_report(&mut self.out, report),
        }
    }

    fn reject(&mut self, path: &str, origin: &str, error: &ParseError) -> Result<()> {
        self.summary.rejected += 1;
        let line = RejectLine {
            path,
            origin,
            reason: error.class(),
            error: error.to_string(),
        };
        write_reject(&mut self.rejects, &line)
    }
}
