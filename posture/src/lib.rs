//! Domain posture, beside the report flow (ingest -> parse -> schemas ->
//! bus -> sink -> store; **posture** reads the DNS and the web instead):
//! every record a domain publishes for mail (DMARC, SPF, DKIM, MTA-STS,
//! TLS-RPT, BIMI, MX), checked as receivers and senders read them, with a
//! finding for each problem (a stable code, a severity, a sentence, the
//! record that fixes it) and a score.
//!
//! One module per record kind, as mail-auth has them; the DNS behind a
//! trait ([`dns::Dns`]: hickory's resolver in production, an in-memory
//! zone in unit tests), HTTPS through [`https::Https`] and each MX host's
//! STARTTLS through [`starttls::Smtp`], all bounded in time and size: a check of a hostile domain ends, with findings, in
//! bounded time and memory. `dmarcflow check` prints it; the reports add
//! what the store knows (DKIM selectors in use, the enforcement verdict).

pub mod bimi;
pub mod check;
pub mod date;
pub mod der;
pub mod dkim;
pub mod dmarc;
pub mod dns;
pub mod finding;
pub mod https;
pub mod mta_sts;
pub mod mx;
pub mod score;
pub mod spf;
pub mod starttls;
pub mod svg;
mod tags;
pub mod text;
pub mod tlsrpt;
pub mod trust;

pub use check::{check, check_all, Clients, FromReports, Posture};
pub use dkim::SelectorSource;
pub use dns::{Dns, HickoryDns};
pub use finding::{Finding, Severity};
pub use https::Https;
pub use starttls::Smtp;
