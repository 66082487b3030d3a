//! `generate`: writes a realistic corpus, or one huge report.
//!
//!   generate emails DIR N [SEED [SALT]] N report emails (.eml) into DIR; SALT
//!                                       gives the same sources other report ids
//!   generate huge FILE BYTES [gz]       one aggregate report of about BYTES bytes
//!                                       (gzip-compressed when `gz` is given)
//!   generate examples DIR               the example emails shipped in `examples/`
//!   generate failures DIR N             N DMARC failure report emails whose
//!                                       personal fields are distinctive words

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use dmarcflow_testkit::{write_report, Generator, Profile};

/// A Write that counts bytes and stops the record loop when the target is reached.
fn huge(path: &str, bytes: u64, compress: bool) -> std::io::Result<u64> {
    let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut sink: Box<dyn Write> = if compress {
        Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(file)
    };
    // About 710 bytes a record in the Microsoft shape (CRLF, envelope fields).
    let records = (bytes / 710).max(1) as usize;
    write_report(&mut sink, Profile::Microsoft, records, 42)?;
    sink.flush()?;
    Ok(records as u64)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("emails") if args.len() >= 4 => {
            let n: usize = args[3].parse().unwrap_or(1000);
            let seed: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(7);
            let id_salt: u64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(0);
            let dir = std::path::Path::new(&args[2]);
            std::fs::create_dir_all(dir).and_then(|_| {
                let mut g = Generator::new(seed);
                g.id_salt = id_salt;
                for i in 0..n {
                    std::fs::write(dir.join(format!("{i:07}.eml")), g.email())?;
                }
                println!("{n} emails in {}", dir.display());
                Ok(())
            })
        }
        Some("examples") if args.len() >= 3 => {
            let dir = std::path::Path::new(&args[2]);
            std::fs::create_dir_all(dir).and_then(|_| {
                let examples = dmarcflow_testkit::generator::examples::examples();
                for (name, bytes) in &examples {
                    std::fs::write(dir.join(name), bytes)?;
                }
                println!("{} example emails in {}", examples.len(), dir.display());
                Ok(())
            })
        }
        Some("failures") if args.len() >= 4 => {
            let n: usize = args[3].parse().unwrap_or(1000);
            let dir = std::path::Path::new(&args[2]);
            std::fs::create_dir_all(dir).and_then(|_| {
                for i in 0..n {
                    let email = dmarcflow_testkit::generator::failure::failure_email(i);
                    std::fs::write(dir.join(format!("{i:07}.eml")), email)?;
                }
                println!("{n} failure report emails in {}", dir.display());
                Ok(())
            })
        }
        Some("huge") if args.len() >= 4 => {
            let bytes: u64 = args[3].parse().unwrap_or(1 << 30);
            let compress = args.get(4).is_some_and(|a| a == "gz");
            huge(&args[2], bytes, compress)
                .map(|records| println!("{records} records in {}", args[2]))
        }
        _ => {
            eprintln!("usage: generate emails DIR N [SEED] | generate huge FILE BYTES [gz] | generate examples DIR | generate failures DIR N");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate: {e}");
            ExitCode::FAILURE
        }
    }
}
