//! The hostile battery (`hostile/cases.rs`) through the parser in process:
//! every case is parsed or rejected with one of its expected reasons. The
//! binary's `tests/hostile.rs` runs the same cases through `dmarcflow parse`
//! and checks peak memory and time.

#[path = "hostile/cases.rs"]
mod hostile;

use std::io::Cursor;

use dmarcflow_parse::detect::{sniff, Format};
use dmarcflow_parse::{mime, stream_aggregate, Item, Limits, Parser};

/// What the files source does with raw inputs: over 64 MiB, XML and gzip
/// are streamed and anything else refused; an mbox is split.
const STREAM_THRESHOLD: usize = 64 << 20;

/// The outcome classes of one input, and the warnings of its reports.
fn outcomes(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let parser = Parser::new(Limits::default());
    let (mut classes, mut warnings) = (Vec::new(), Vec::new());
    if bytes.len() > STREAM_THRESHOLD {
        if !matches!(sniff(bytes), Format::Xml | Format::Gzip | Format::Zlib) {
            return (vec!["limit_exceeded".into()], warnings);
        }
        match stream_aggregate(Cursor::new(bytes), parser.limits) {
            Err(e) => classes.push(e.class().to_owned()),
            Ok(mut stream) => {
                let _records = stream.by_ref().count();
                match stream.finish() {
                    Ok(r) => {
                        classes.push("ok".into());
                        warnings.extend(r.warnings.iter().map(str::to_owned));
                    }
                    Err(e) => classes.push(e.class().to_owned()),
                }
            }
        }
        return (classes, warnings);
    }
    let messages = if bytes.starts_with(b"From ") {
        mime::split_mbox(bytes)
    } else {
        vec![bytes]
    };
    for message in messages {
        for item in parser.extract(message, "hostile") {
            let result = match item {
                Err(r) => Err(r.error),
                Ok(Item::Failure(_)) => Ok(Vec::new()),
                Ok(Item::Payload(p)) => parser
                    .parse_payload(&p)
                    .map(|r| r.warnings().iter().map(str::to_owned).collect()),
                Ok(Item::Stream(s)) => parser.parse_stream(&s).and_then(|mut stream| {
                    let _records = stream.by_ref().count();
                    stream
                        .finish()
                        .map(|r| r.warnings.iter().map(str::to_owned).collect())
                }),
            };
            match result {
                Ok(w) => {
                    classes.push("ok".into());
                    warnings.extend(w);
                }
                Err(e) => classes.push(e.class().to_owned()),
            }
        }
    }
    (classes, warnings)
}

#[test]
fn every_hostile_input_is_parsed_or_rejected_with_its_reason() {
    let mut failures = Vec::new();
    for name in hostile::names() {
        let building = std::time::Instant::now();
        let Some(case) = hostile::build(name) else {
            failures.push(format!("{name}: no such case"));
            continue;
        };
        let started = std::time::Instant::now();
        let (classes, warnings) = outcomes(&case.bytes);
        let unexpected: Vec<&String> = classes
            .iter()
            .filter(|c| !case.expect.contains(&c.as_str()))
            .collect();
        eprintln!(
            "{name}: built in {:.2} s, {} bytes, {} outcomes ({}), {:.2} s",
            started.duration_since(building).as_secs_f64(),
            case.bytes.len(),
            classes.len(),
            classes.first().map_or("", String::as_str),
            started.elapsed().as_secs_f64()
        );
        if classes.len() < case.min_outcomes || !unexpected.is_empty() {
            failures.push(format!(
                "{name}: expected {:?} (at least {}), got {} outcomes, unexpected {:?}",
                case.expect,
                case.min_outcomes,
                classes.len(),
                unexpected.iter().take(3).collect::<Vec<_>>()
            ));
        }
        if name.contains("dates_out_of_range")
            && !warnings.iter().any(|w| w.contains("outside 1970"))
        {
            failures.push(format!("{name}: no warning about the dates: {warnings:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
