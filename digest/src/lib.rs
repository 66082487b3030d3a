//! Reports people read without Grafana: a domain's summary for a period.
//!
//! Data flows `ingest -> parse -> schemas -> bus -> sink -> store`; the digest
//! reads the store after it:
//! - [`gather`]: the numbers, from the daily tables (volume and DMARC pass
//!   rate per day, per result, per source, the top failing sources, TLS-RPT
//!   sessions by result) and the alerts of the period;
//! - [`posture`]: the domain's newest posture check (score, grade, what
//!   to fix), when the watch or `check --save` stored one;
//! - [`chart`]: volume and pass rate over the days as SVG, and as the
//!   shapes the PDF draws;
//! - [`html`]: one self-contained file (inline CSS and SVG, no external
//!   assets);
//! - [`pdf`]: A4 pages written with `pdf-writer` (the standard Helvetica,
//!   nothing embedded, no external program);
//! - [`schedule`]: when a daily, weekly or monthly report is due and the
//!   period it covers.

pub mod chart;
mod gather;
pub mod html;
pub mod pdf;
pub mod posture;
pub mod schedule;

pub use gather::{gather, Day, Digest, Owner};
