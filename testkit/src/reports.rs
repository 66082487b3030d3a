//! Reports in the contract's types, for the tests of the crates after
//! `parse` (the stores, the sink): the shared corpus parsed, and made-up
//! aggregate reports of any size.
//!
//! The corpus is read through `parse` alone, not through `ingest`'s files
//! source, so that a store's tests do not depend on the sources. The two
//! readings agree (`ingest`'s tests compare them): every report the files
//! source finds is here, once.

use std::path::{Path, PathBuf};

use dmarcflow_parse::Parser;
use dmarcflow_schemas::aggregate::{AggregateReport, Disposition, DmarcResult, Record};
use dmarcflow_schemas::{Ingested, Report};

use crate::corpus;

/// When the corpus reports say they were received (2023-11-14).
pub const CORPUS_RECEIVED_AT: i64 = 1_700_000_000;

/// Every report of the corpus, file by file in path order; None (skip)
/// where there is no corpus outside CI.
pub fn corpus_reports() -> Option<Vec<Ingested<'static>>> {
    let root = corpus::root()?;
    let parser = Parser::default();
    let mut out = Vec::new();
    for path in files(&root) {
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        let origin = path.display().to_string();
        for report in parser.parse_all(&data, &origin).into_iter().flatten() {
            out.push(Ingested {
                report,
                origin: origin.clone(),
                received_at: CORPUS_RECEIVED_AT,
                reporter: None,
            });
        }
    }
    Some(out)
}

/// The files under `dir`, sorted by path, hidden ones left out (as the
/// files source walks a folder).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            out.extend(files(&entry));
        } else {
            out.push(entry);
        }
    }
    out
}

/// A made-up report with `records` records, for tests of parts and
/// retries: report id `generated-<id_seed>`, domain `generated.example`,
/// 2024-01-01, one record in three failing DKIM.
pub fn generated(id_seed: u32, records: usize) -> AggregateReport<'static> {
    let mut r = AggregateReport::empty();
    r.metadata.org_name = "test.example".into();
    r.metadata.email = "dmarc@test.example".into();
    r.metadata.report_id = format!("generated-{id_seed}").into();
    r.metadata.begin = 1_704_067_200; // 2024-01-01
    r.metadata.end = 1_704_153_599;
    r.policy_published.domain = "generated.example".into();
    r.records = (0..records)
        .map(|i| Record {
            source_ip: format!("198.51.100.{}", i % 250).into(),
            count: 1 + (i as u64 % 7),
            disposition: Some(Disposition::None),
            dkim: Some(if i % 3 == 0 {
                DmarcResult::Fail
            } else {
                DmarcResult::Pass
            }),
            spf: Some(DmarcResult::Pass),
            header_from: "generated.example".into(),
            ..Record::default()
        })
        .collect();
    r.id = AggregateReport::compute_id(&r.metadata, &r.policy_published);
    r
}

/// `report` cut into parts of `size` records.
pub fn in_parts(report: &AggregateReport<'static>, size: usize) -> Vec<Ingested<'static>> {
    report
        .clone()
        .split(size)
        .into_iter()
        .map(ingested)
        .collect()
}

/// `report` as a source hands it over (origin `generated`).
pub fn ingested(report: AggregateReport<'static>) -> Ingested<'static> {
    Ingested {
        report: Report::Aggregate(report),
        origin: "generated".into(),
        received_at: 1_704_153_600,
        reporter: None,
    }
}
