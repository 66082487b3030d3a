//! The files source over the shared corpus finds what the test kit's
//! parse-only reading finds (the stores' tests read the corpus that way, so
//! they see every report the files source would hand them): the same
//! reports, in the same order, with the same records.

use dmarcflow_ingest::files::{discover, FilesSource, Found};
use dmarcflow_schemas::{Ingested, Report};
use dmarcflow_testkit::corpus;
use dmarcflow_testkit::reports::corpus_reports;

#[test]
fn the_files_source_and_the_test_kit_read_the_same_corpus() {
    let (Some(root), Some(kit)) = (corpus::root(), corpus_reports()) else {
        return;
    };
    let inputs = discover(&[root]).unwrap_or_else(|e| panic!("{e}"));
    let source = FilesSource::default();
    let mut found = Vec::new();
    for input in &inputs {
        let _ = source.read(input, 0, |f| {
            if let Found::Report(r) = f {
                found.push(r);
            }
            Ok::<(), ()>(())
        });
    }
    assert!(found.len() > 100, "{} reports", found.len());
    assert_eq!(summary(&found), summary(&kit));
}

/// Each report's id and records in order, a report the files source
/// delivered in parts counted once with all its records (origins differ:
/// the files source names the part of a file a report came from).
fn summary(reports: &[Ingested<'_>]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for item in reports {
        let (records, continued) = match &item.report {
            Report::Aggregate(r) => (
                r.records.len(),
                r.part.as_ref().is_some_and(|p| p.first_record > 0),
            ),
            _ => (0, false),
        };
        match out.last_mut() {
            Some((id, n)) if continued && id == item.report.id() => *n += records,
            _ => out.push((item.report.id().to_owned(), records)),
        }
    }
    out
}
