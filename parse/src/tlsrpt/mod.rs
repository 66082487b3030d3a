//! SMTP TLS reports (RFC 8460): JSON parsed with serde, borrowing strings
//! from the document, tolerant of what real senders send.

mod parse;
mod raw;
pub mod time;

pub use parse::{parse_tlsrpt, parse_tlsrpt_with};

#[cfg(test)]
mod tests;
