//! The Kafka contract: topic names, message keys, headers and bodies.
//!
//! - Report topics, one per kind: the body is the report's JSON (the JSON
//!   Schemas of `schemas/json/`), the key its identity (so a report's
//!   deliveries and parts land on one partition, in order), headers carry
//!   the ingest metadata.
//! - The dead-letter topic: the body is the raw input that yielded no
//!   report, headers say why and where it came from.
//! - The raw archive topic (optional): every original message, for replay
//!   after a parser fix.

use serde::{Deserialize, Serialize};

use crate::{Ingested, Report, ReportKind};

/// Header names.
pub mod header {
    pub const ORIGIN: &str = "dmarcflow-origin";
    pub const RECEIVED_AT: &str = "dmarcflow-received-at";
    pub const SCHEMA_VERSION: &str = "dmarcflow-schema-version";
    pub const REASON: &str = "dmarcflow-reason";
    pub const ERROR: &str = "dmarcflow-error";
    /// `ReporterAuth` as JSON, where ingest checked the report's email.
    pub const REPORTER_AUTH: &str = "dmarcflow-reporter-auth";
}

/// The topic names, from a prefix (`dmarcflow` gives `dmarcflow.aggregate`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topics {
    pub aggregate: String,
    pub failure: String,
    pub tlsrpt: String,
    pub dead_letter: String,
    pub raw: String,
}

impl Topics {
    pub fn with_prefix(prefix: &str) -> Self {
        let t = |name: &str| format!("{prefix}.{name}");
        Self {
            aggregate: t("aggregate"),
            failure: t("failure"),
            tlsrpt: t("tlsrpt"),
            dead_letter: t("dead-letter"),
            raw: t("raw"),
        }
    }

    pub fn for_kind(&self, kind: ReportKind) -> &str {
        match kind {
            ReportKind::Aggregate => &self.aggregate,
            ReportKind::Failure => &self.failure,
            ReportKind::Tlsrpt => &self.tlsrpt,
        }
    }

    /// The three report topics (what a sink consumes).
    pub fn reports(&self) -> [&str; 3] {
        [&self.aggregate, &self.failure, &self.tlsrpt]
    }
}

/// A report message's body.
pub fn encode(report: &Report<'_>) -> Vec<u8> {
    // Our own types always serialise.
    serde_json::to_vec(report).unwrap_or_default()
}

/// The ingest headers of a report message, as read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'h> {
    pub origin: Option<&'h str>,
    pub received_at: Option<&'h str>,
    pub reporter_auth: Option<&'h str>,
}

/// Reads a report message back: the body and the ingest headers.
pub fn decode<'a>(body: &'a [u8], headers: Headers<'_>) -> Result<Ingested<'a>, serde_json::Error> {
    let report: Report<'a> = serde_json::from_slice(body)?;
    Ok(Ingested {
        report,
        origin: headers.origin.unwrap_or_default().to_owned(),
        received_at: headers
            .received_at
            .and_then(|t| t.parse().ok())
            .unwrap_or_default(),
        reporter: headers
            .reporter_auth
            .and_then(crate::ReporterAuth::from_header),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AggregateReport;

    #[test]
    fn round_trip() {
        let mut r = AggregateReport::empty();
        r.id = "abc".into();
        let body = encode(&Report::Aggregate(r.clone()));
        let headers = Headers {
            origin: Some("imap:INBOX/7"),
            received_at: Some("1700000000"),
            reporter_auth: Some(r#"{"verdict":"unsigned"}"#),
        };
        let back = decode(&body, headers).ok();
        assert_eq!(
            back.as_ref()
                .and_then(|i| i.reporter.as_ref())
                .map(|a| a.verdict),
            Some(crate::reporter_auth::Verdict::Unsigned)
        );
        assert_eq!(back.as_ref().map(|i| i.report.id()), Some("abc"));
        assert_eq!(
            back.map(|i| (i.origin, i.received_at)),
            Some(("imap:INBOX/7".into(), 1_700_000_000))
        );
        assert_eq!(
            Topics::with_prefix("d").for_kind(ReportKind::Tlsrpt),
            "d.tlsrpt"
        );
    }
}
