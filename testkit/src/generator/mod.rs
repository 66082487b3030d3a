//! The generator of realistic report corpora, for the tests and the
//! benches (`cargo run -p dmarcflow-benches --bin generate`). [`Generator`] writes aggregate reports shaped like the
//! big providers' (Google: zip, no envelope fields; Microsoft: gzip, CRLF,
//! `<version>`, envelope_to/from; Yahoo: gzip, several DKIM results), as
//! bare XML, compressed payloads or whole emails, at any scale, and streams
//! a report of any number of records to a writer for the memory tests.

mod email;
pub mod examples;
pub mod failure;
mod random;
mod xml;

pub use email::{email, Attachment};
pub use random::Rng;
pub use xml::{write_report, write_report_salted, Profile};

/// A deterministic source of reports.
pub struct Generator {
    rng: Rng,
    /// Mixed into every report id (`write_report_salted`).
    pub id_salt: u64,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            id_salt: 0,
        }
    }

    /// One aggregate report's XML.
    pub fn xml(&mut self, profile: Profile, records: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(600 + records * 700);
        let seed = self.rng.next_u64();
        // Writing to a Vec cannot fail.
        let _ = write_report_salted(&mut out, profile, records, seed, self.id_salt);
        out
    }

    /// One whole email as the profile's provider sends it, with 1 to 50 records.
    pub fn email(&mut self) -> Vec<u8> {
        let profile = match self.rng.below(3) {
            0 => Profile::Google,
            1 => Profile::Microsoft,
            _ => Profile::Yahoo,
        };
        let records = 1 + self.rng.below(50) as usize;
        let xml = self.xml(profile, records);
        email(profile, &xml, self.rng.next_u64())
    }

    /// `n` emails.
    pub fn emails(&mut self, n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|_| self.email()).collect()
    }
}
