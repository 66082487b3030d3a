//! The contract of dmarcflow: normalised report types.
//!
//! Data flows `ingest -> parse -> schemas -> bus -> sink -> store`. The parsers fill
//! these types, borrowing text from the decompressed report where they can
//! (`Cow<'a, str>`); serialised as JSON they are the Kafka message bodies, and
//! the stores read them back. `json/` beside this crate holds a JSON Schema for
//! each kind, checked against real output by the tests.
//!
//! Each report carries a stable identity (`id`), used as the Kafka key and as
//! the dedup key of the stores; see [`identity`].

pub mod aggregate;
mod auth_results;
pub mod ddl;
pub mod failure;
pub mod identity;
mod ingested;
pub mod message;
mod rejected;
pub mod reporter_auth;
mod source;
pub mod storable_time;
mod text_enum;
pub mod tlsrpt;
mod warnings;

pub use aggregate::AggregateReport;
pub use failure::FailureReport;
pub use ingested::Ingested;
pub use rejected::Rejected;
pub use reporter_auth::ReporterAuth;
pub use source::Source;
pub use text_enum::{Match, TextEnum};
pub use tlsrpt::TlsReport;
pub use warnings::Warnings;

use serde::{Deserialize, Serialize};

/// The version of the JSON layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// A normalised report of any kind, tagged by `kind` in JSON.
// One value per report, moved a handful of times: boxing the larger variant
// would buy nothing but an allocation per failure report.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Report<'a> {
    Aggregate(AggregateReport<'a>),
    Failure(FailureReport<'a>),
    Tlsrpt(TlsReport<'a>),
}

/// The three report kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Aggregate,
    Failure,
    Tlsrpt,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aggregate => "aggregate",
            Self::Failure => "failure",
            Self::Tlsrpt => "tlsrpt",
        }
    }
}

impl Report<'_> {
    /// The stable identity: Kafka key and dedup key.
    pub fn id(&self) -> &str {
        match self {
            Self::Aggregate(r) => &r.id,
            Self::Failure(r) => &r.id,
            Self::Tlsrpt(r) => &r.id,
        }
    }

    /// Detaches the report from the buffer it borrows.
    pub fn into_owned(self) -> Report<'static> {
        match self {
            Self::Aggregate(r) => Report::Aggregate(r.into_owned()),
            Self::Failure(r) => Report::Failure(r.into_owned()),
            Self::Tlsrpt(r) => Report::Tlsrpt(r.into_owned()),
        }
    }

    pub fn kind(&self) -> ReportKind {
        match self {
            Self::Aggregate(_) => ReportKind::Aggregate,
            Self::Failure(_) => ReportKind::Failure,
            Self::Tlsrpt(_) => ReportKind::Tlsrpt,
        }
    }

    pub fn warnings(&self) -> &Warnings {
        match self {
            Self::Aggregate(r) => &r.warnings,
            Self::Failure(r) => &r.warnings,
            Self::Tlsrpt(r) => &r.warnings,
        }
    }
}
