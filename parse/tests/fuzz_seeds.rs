//! The fuzz targets on the stable toolchain: every committed seed of
//! `fuzz/seeds/`, and a bounded number of deterministic mutations of each
//! (bit flips, truncations, splices), must run without a panic.

use std::path::Path;

use dmarcflow_parse::fuzz_targets;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds for {target}");
    out
}

/// Deterministic mutations of one input.
fn mutations(seed: &[u8], n: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut state = 0x2545_F491_4F6C_DD1Du64 ^ seed.len() as u64;
    (0..n).map(move |i| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut m = seed.to_vec();
        if m.is_empty() {
            return vec![state as u8];
        }
        let at = (state % m.len() as u64) as usize;
        match i % 4 {
            0 => m[at] ^= 1 << (state % 8),
            1 => m.truncate(at),
            2 => {
                let from = ((state >> 20) % m.len() as u64) as usize;
                let chunk: Vec<u8> = m[from..(from + 16).min(m.len())].to_vec();
                m.splice(at..at, chunk);
            }
            _ => m[at] = [b'<', b'>', b'&', b'"', 0, 0xff, b'\n', b'='][(state % 8) as usize],
        }
        m
    })
}

fn run(target: &str, f: fn(&[u8])) {
    for seed in seeds(target) {
        f(&seed);
        for m in mutations(&seed, 300) {
            f(&m);
        }
    }
}

#[test]
fn mime() {
    run("mime", fuzz_targets::mime);
}

#[test]
fn decompress() {
    run("decompress", fuzz_targets::decompress);
}

#[test]
fn aggregate() {
    run("aggregate", fuzz_targets::aggregate);
}

#[test]
fn aggregate_stream() {
    run("aggregate", fuzz_targets::aggregate_stream);
}

#[test]
fn arf() {
    run("arf", fuzz_targets::arf);
}

#[test]
fn tlsrpt() {
    run("tlsrpt", fuzz_targets::tlsrpt);
}
