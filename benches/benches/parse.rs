//! Parse throughput: dmarcflow against two baselines measured in the same
//! run on the same inputs:
//! - `mail_auth`: the mail-auth crate (0.13.3) parsing the same emails;
//! - `floor`: only MIME-decoding (base64) and decompressing them, the work
//!   any parser must do before reading a byte of XML.
//!
//! Datasets: the aggregate emails of the shared corpus, 1000 generated
//! provider-shaped emails (1-50 records), and one gzip report of 1M records.
//! Throughput is in bytes; `benches/parse-table.sh` turns the results into
//! reports/s and MB/s using `target/criterion/datasets.json` written here.

use std::io::Read;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dmarcflow_parse::decompress::{unpack, Unpacked};
use dmarcflow_parse::{stream_aggregate, Item, Limits, Parser};
use dmarcflow_testkit::{write_report, Generator, Profile};
use mail_parser::{MimeHeaders, PartType};

/// Ours: every report of every email, parsed to the normalised types.
fn ours(parser: &Parser, emails: &[Vec<u8>]) -> usize {
    let mut records = 0;
    for email in emails {
        for item in parser.extract(email, "bench").into_iter().flatten() {
            if let Item::Payload(p) = item {
                if let Ok(dmarcflow_schemas::Report::Aggregate(r)) = parser.parse_payload(&p) {
                    records += r.records.len();
                }
            }
        }
    }
    records
}

fn mail_auth(emails: &[Vec<u8>]) -> usize {
    emails
        .iter()
        .filter_map(|e| mail_auth::report::Report::parse_rfc5322(e, 1 << 30).ok())
        .map(|r| r.records().len())
        .sum()
}

/// The floor: MIME parse (reading only the headers that locate and decode
/// parts, as ours does) and base64 decode, then decompression, nothing more.
fn floor(emails: &[Vec<u8>]) -> usize {
    let mut bytes = 0;
    for email in emails {
        let Some(message) = dmarcflow_parse::mime::message_parser().parse(email) else {
            continue;
        };
        for part in &message.parts {
            let data: &[u8] = match &part.body {
                PartType::Binary(b) | PartType::InlineBinary(b)
                    if part.content_type().is_some() =>
                {
                    b
                }
                _ => continue,
            };
            for u in unpack(
                std::borrow::Cow::Borrowed(data),
                String::new(),
                Limits::default(),
            )
            .into_iter()
            .flatten()
            {
                if let Unpacked::Payload(p) = u {
                    bytes += p.data.len();
                }
            }
        }
    }
    bytes
}

fn corpus_emails() -> Vec<Vec<u8>> {
    let Some(root) = dmarcflow_testkit::corpus::root() else {
        eprintln!("shared corpus not found: corpus group skipped");
        return Vec::new();
    };
    let Ok(inventory) = std::fs::read_to_string(root.join("INVENTORY.tsv")) else {
        eprintln!("shared corpus not found: corpus group skipped");
        return Vec::new();
    };
    inventory
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.len() > 5 && c[2] == "aggregate" && c[5] == "eml").then(|| root.join(c[3]))
        })
        .filter_map(|p| std::fs::read(p).ok())
        // Like for like: the emails both parsers accept.
        .filter(|e| mail_auth::report::Report::parse_rfc5322(e, 1 << 30).is_ok())
        .collect()
}

fn record_dataset(name: &str, reports: usize, bytes: usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion/datasets.json");
    let mut all: serde_json::Map<String, serde_json::Value> = std::fs::read(&path)
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok())
        .unwrap_or_default();
    all.insert(
        name.into(),
        serde_json::json!({"reports": reports, "bytes": bytes}),
    );
    let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
    let _ = std::fs::write(&path, serde_json::to_vec_pretty(&all).unwrap_or_default());
}

fn email_group(c: &mut Criterion, name: &str, emails: &[Vec<u8>]) {
    if emails.is_empty() {
        return;
    }
    let bytes: usize = emails.iter().map(Vec::len).sum();
    record_dataset(name, emails.len(), bytes);
    let parser = Parser::default();
    assert!(
        ours(&parser, emails) >= mail_auth(emails),
        "{name}: we must find every record mail-auth finds"
    );
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("dmarcflow", |b| b.iter(|| ours(&parser, emails)));
    g.bench_function("mail_auth", |b| b.iter(|| mail_auth(emails)));
    g.bench_function("floor", |b| b.iter(|| floor(emails)));
    g.finish();
}

fn emails(c: &mut Criterion) {
    email_group(c, "corpus_emails", &corpus_emails());
    email_group(c, "generated_emails", &Generator::new(7).emails(1000));
}

fn million_records(c: &mut Criterion) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = write_report(&mut gz, Profile::Google, 1_000_000, 9);
    let gz = gz.finish().unwrap_or_default();
    record_dataset("million_records", 1, gz.len());
    let in_memory = Parser::new(Limits {
        max_in_memory: 4 << 30,
        ..Limits::default()
    });
    let mut g = c.benchmark_group("million_records");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(gz.len() as u64));
    g.bench_function(BenchmarkId::new("dmarcflow", "in_memory"), |b| {
        b.iter(|| ours(&in_memory, std::slice::from_ref(&gz)))
    });
    g.bench_function(BenchmarkId::new("dmarcflow", "stream"), |b| {
        b.iter(|| {
            stream_aggregate(&gz[..], Limits::default())
                .map(|p| p.count())
                .unwrap_or(0)
        })
    });
    g.bench_function("mail_auth", |b| {
        b.iter(|| {
            let mut xml = Vec::new();
            let _ = flate2::read::MultiGzDecoder::new(&gz[..]).read_to_end(&mut xml);
            mail_auth::report::Report::parse_xml(&xml)
                .map(|r| r.records().len())
                .unwrap_or(0)
        })
    });
    g.bench_function("floor", |b| {
        b.iter(|| {
            let mut xml = Vec::new();
            let _ = flate2::read::MultiGzDecoder::new(&gz[..]).read_to_end(&mut xml);
            xml.len()
        })
    });
    g.finish();
}

criterion_group!(
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(4)).warm_up_time(std::time::Duration::from_secs(1));
    targets = emails, million_records
);
criterion_main!(benches);
