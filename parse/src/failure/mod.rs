//! DMARC failure reports: ARF (RFC 5965) with the authentication failure
//! fields of RFC 6591, plus the text-only reports some MTAs (Exim) send.

mod fields;
mod parse;

pub use parse::{has_feedback_report, parse_arf};

#[cfg(test)]
mod tests;
