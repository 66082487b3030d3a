//! Whether the email that carried a report came from the reporter: the
//! outcome of verifying its DKIM signatures (and SPF) against the domain of
//! the reporter's address, found by ingest and kept beside the report as
//! ingest metadata (a Kafka header, columns of the report tables).

use serde::{Deserialize, Serialize};

/// The verdict on one report email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A valid DKIM signature whose domain aligns (relaxed: same
    /// organisational domain) with the reporter's domain.
    Aligned,
    /// Valid signatures, none of them aligned with the reporter's domain.
    Unaligned,
    /// No DKIM signature at all.
    Unsigned,
    /// Signatures that did not verify (bad signature, key missing,
    /// temporary DNS error).
    Failed,
    /// Received over HTTPS (TLS-RPT): there is no email to verify.
    Https,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aligned => "aligned",
            Self::Unaligned => "unaligned",
            Self::Unsigned => "unsigned",
            Self::Failed => "failed",
            Self::Https => "https",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReporterAuth {
    pub verdict: Verdict,
    /// The best DKIM result among the signatures (`pass`, `fail`,
    /// `temperror`, `permerror`, `neutral`, `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim: Option<String>,
    /// The signing domain (`d=`) of that signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_domain: Option<String>,
    /// SPF of the sending address, where the receiving side knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spf: Option<String>,
}

impl ReporterAuth {
    pub const HTTPS: ReporterAuth = ReporterAuth {
        verdict: Verdict::Https,
        dkim: None,
        dkim_domain: None,
        spf: None,
    };

    /// The report is the reporter's own: an aligned, valid DKIM signature.
    pub fn authenticated(&self) -> bool {
        self.verdict == Verdict::Aligned
    }

    /// The Kafka header's value.
    pub fn to_header(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Read back from the header; `None` for anything else.
    pub fn from_header(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let auth = ReporterAuth {
            verdict: Verdict::Aligned,
            dkim: Some("pass".into()),
            dkim_domain: Some("google.com".into()),
            spf: None,
        };
        assert_eq!(
            auth.to_header(),
            r#"{"verdict":"aligned","dkim":"pass","dkim_domain":"google.com"}"#
        );
        assert_eq!(ReporterAuth::from_header(&auth.to_header()), Some(auth));
        assert_eq!(ReporterAuth::from_header("nonsense"), None);
        assert!(!ReporterAuth::HTTPS.authenticated());
    }
}
