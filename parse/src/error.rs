//! Why an input was not turned into a report. Each error has a stable reason
//! class ([`ParseError::class`]) for dead-letter routing and metrics.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    #[error("empty input")]
    Empty,
    #[error("no report found: {0}")]
    NotAReport(String),
    #[error("not a DMARC report: {0}")]
    NotDmarc(String),
    #[error("malformed XML at byte {position}: {detail}")]
    MalformedXml { position: u64, detail: String },
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("invalid report: {0}")]
    InvalidReport(String),
    #[error("malformed email: {0}")]
    Mime(String),
    #[error("{codec} decompression failed: {detail}")]
    Decompress { codec: &'static str, detail: String },
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    #[error("read failed: {0}")]
    Read(String),
}

impl ParseError {
    /// A stable, machine-readable reason class.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::NotAReport(_) => "not_a_report",
            Self::NotDmarc(_) => "not_dmarc",
            Self::MalformedXml { .. } => "malformed_xml",
            Self::MalformedJson(_) => "malformed_json",
            Self::InvalidReport(_) => "invalid_report",
            Self::Mime(_) => "mime",
            Self::Decompress { .. } => "decompress",
            Self::LimitExceeded(_) => "limit_exceeded",
            Self::Read(_) => "read",
        }
    }
}

impl From<std::io::Error> for ParseError {
    fn from(e: std::io::Error) -> Self {
        // Decompressors report their own failures as io errors; the codec
        // wrappers map those before they reach here, so this is the caller's
        // reader failing.
        Self::Read(e.to_string())
    }
}
