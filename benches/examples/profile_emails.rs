//! The email path alone, for instruction-level profiling:
//!   cargo build --release -p dmarcflow-benches --example profile_emails
//!   valgrind --tool=callgrind target/release/examples/profile_emails [EMAIL...]
//! Without arguments it parses 1000 generated emails three times; with
//! paths, those emails 200 times each; `ROUNDS=N` changes the count.

use dmarcflow_parse::{Item, Parser};
use dmarcflow_testkit::Generator;

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let (emails, rounds) = if paths.is_empty() {
        (Generator::new(7).emails(1000), 3)
    } else {
        let read = paths.iter().filter_map(|p| std::fs::read(p).ok());
        (read.collect(), 200)
    };
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(rounds);
    let parser = Parser::default();
    let mut records = 0;
    for _ in 0..rounds {
        for email in &emails {
            for item in parser.extract(email, "profile").into_iter().flatten() {
                if let Item::Payload(p) = item {
                    if let Ok(dmarcflow_schemas::Report::Aggregate(r)) = parser.parse_payload(&p) {
                        records += r.records.len();
                    }
                }
            }
        }
    }
    println!("{records} records");
}
