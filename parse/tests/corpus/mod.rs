//! The shared corpus (`../shared/corpus`): where it is, what its inventory
//! says, and the parse of one file. Missing, it skips the tests that need it,
//! except in CI (`CI=true`), where a missing corpus fails.

#![allow(dead_code)]

use std::path::Path;

use dmarcflow_parse::Parser;
use dmarcflow_schemas::Report;

pub use dmarcflow_testkit::corpus::root;

/// One inventory row.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: String,
    pub path: String,
    pub container: String,
    pub notes: String,
}

pub fn inventory(root: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(root.join("INVENTORY.tsv")).expect("reading INVENTORY.tsv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.len() >= 8).then(|| Entry {
                kind: cols[2].to_owned(),
                path: cols[3].to_owned(),
                container: cols[5].to_owned(),
                notes: cols[7].to_owned(),
            })
        })
        .collect()
}

/// The outcome of one corpus file: reports (with the origin each came from)
/// and rejections (origin, reason class).
#[derive(Debug, Default)]
pub struct Outcome {
    pub reports: Vec<(String, Report<'static>)>,
    pub rejections: Vec<(String, &'static str, String)>,
}

pub fn parse_file(path: &Path) -> Outcome {
    let data = std::fs::read(path).expect("reading a corpus file");
    let mut out = Outcome::default();
    let origin = path.display().to_string();
    let parser = Parser::default();
    for item in parser.extract(&data, &origin) {
        match item {
            Err(r) => out
                .rejections
                .push((r.origin, r.error.class(), r.error.to_string())),
            Ok(item) => match parse_item(&parser, item) {
                Ok((o, r)) => out.reports.push((o, r)),
                Err((o, e)) => out.rejections.push((o, e.class(), e.to_string())),
            },
        }
    }
    out
}

type ItemResult = Result<(String, Report<'static>), (String, dmarcflow_parse::ParseError)>;

fn parse_item(parser: &Parser, item: dmarcflow_parse::Item<'_>) -> ItemResult {
    use dmarcflow_parse::Item;
    let detach = |r: &Report<'_>| -> Report<'static> {
        serde_json::from_value(serde_json::to_value(r).expect("serialise")).expect("round trip")
    };
    match item {
        Item::Failure(f) => {
            let origin = String::from("email");
            Ok((origin, detach(&Report::Failure(*f))))
        }
        Item::Payload(p) => match parser.parse_payload(&p) {
            Ok(r) => Ok((p.origin.clone(), detach(&r))),
            Err(e) => Err((p.origin.clone(), e)),
        },
        Item::Stream(s) => Err((
            s.origin.clone(),
            dmarcflow_parse::ParseError::NotAReport("stream".into()),
        )),
    }
}

/// `[N records/M msgs]` and `entry=NAME; N records/M msgs` facts of a note:
/// `(entry, records, messages)`, entry empty for a single-report file.
pub fn record_facts(notes: &str) -> Vec<(String, u64, u64)> {
    let mut facts = Vec::new();
    let mut entry = String::new();
    for piece in notes.split(['[', ';', ']', '|']) {
        let piece = piece.trim();
        if let Some(name) = piece.strip_prefix("entry=") {
            entry = name.to_owned();
        } else if let Some((r, m)) = piece.split_once(" records/") {
            if let (Ok(r), Some(Ok(m))) = (r.parse(), m.strip_suffix(" msgs").map(str::parse)) {
                facts.push((entry.clone(), r, m));
            }
        }
    }
    facts
}

/// `N policies [a,b] ok=X fail=Y failure-details=Z` of a TLS-RPT note.
pub struct TlsFacts {
    pub policies: usize,
    pub types: Vec<String>,
    pub ok: u64,
    pub fail: u64,
    pub details: usize,
}

pub fn tls_facts(notes: &str) -> Option<TlsFacts> {
    let at = notes.find(" policies [")?;
    let start = notes[..at].rfind(['[', ';', ' ']).map_or(0, |i| i + 1);
    let policies = notes[start..at].trim().parse().ok()?;
    let rest = &notes[at + " policies [".len()..];
    let close = rest.find(']')?;
    let types = rest[..close].split(',').map(str::to_owned).collect();
    let num = |key: &str| -> Option<u64> {
        let from = rest.find(key)? + key.len();
        let digits: String = rest[from..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    Some(TlsFacts {
        policies,
        types,
        ok: num("ok=")?,
        fail: num("fail=")?,
        details: usize::try_from(num("failure-details=")?).ok()?,
    })
}
