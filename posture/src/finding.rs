//! What a check found: a stable code (`dmarc.policy_none`), a severity, a
//! sentence for people and, where publishing a record fixes it, the exact
//! record. Codes are an interface (scripts and alert rules match them):
//! once published, a code keeps its meaning.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The record to publish (`name TXT "..."`), where one fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            fix: None,
        }
    }

    pub fn critical(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Critical, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Info, message)
    }

    /// The record that fixes it: `name` `TXT` `text` in zone-file form.
    pub fn fixed_by_txt(mut self, name: &str, text: &str) -> Self {
        self.fix = Some(format!("{name}. TXT \"{text}\""));
        self
    }
}
