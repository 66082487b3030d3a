//! The email path alone, for instruction-level profiling:
//!   cargo build --release -p dmarcflow-benches --example profile_emails
//!   valgrind --tool=callgrind target/release/examples/profile_emails

use dmarcflow_benches::Generator;
use dmarcflow_parse::{Item, Parser};

fn main() {
    let emails = Generator::new(7).emails(1000);
    let parser = Parser::default();
    let mut records = 0;
    for _ in 0..3 {
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
