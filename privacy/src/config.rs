//! `[privacy]`, as the binary resolved it (file and environment).

use std::path::PathBuf;

use crate::PrivacyError;

/// `failure_reports`: what happens to a failure report's personal fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Encrypt,
    Redact,
    Clear,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Encrypt => "encrypt",
            Mode::Redact => "redact",
            Mode::Clear => "clear",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = PrivacyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "encrypt" => Ok(Mode::Encrypt),
            "redact" => Ok(Mode::Redact),
            "clear" => Ok(Mode::Clear),
            other => Err(PrivacyError::Mode(other.to_owned())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PrivacyConfig {
    /// None: `encrypt` when a recipient is configured, otherwise `redact`.
    pub mode: Option<Mode>,
    /// age recipients (`age1...`) inline, or paths of files holding them
    /// (one a line, `#` comments: the format of `age -R`).
    pub recipients: Vec<String>,
    /// The redaction secret; created (32 random bytes, hex, mode 0600)
    /// when it does not exist. None: the file the caller names as the
    /// default (beside the store).
    pub hash_secret_file: Option<PathBuf>,
}

impl PrivacyConfig {
    /// The mode in force: the one chosen, or the default.
    pub fn mode(&self) -> Result<Mode, PrivacyError> {
        match self.mode {
            Some(Mode::Encrypt) if self.recipients.is_empty() => Err(PrivacyError::NoRecipients),
            Some(mode) => Ok(mode),
            None if self.recipients.is_empty() => Ok(Mode::Redact),
            None => Ok(Mode::Encrypt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(mode: Option<Mode>, recipients: &[&str]) -> PrivacyConfig {
        PrivacyConfig {
            mode,
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            hash_secret_file: None,
        }
    }

    #[test]
    fn default_is_encrypt_with_a_recipient_and_redact_without() {
        assert_eq!(config(None, &[]).mode().ok(), Some(Mode::Redact));
        assert_eq!(config(None, &["age1x"]).mode().ok(), Some(Mode::Encrypt));
        assert_eq!(
            config(Some(Mode::Clear), &["age1x"]).mode().ok(),
            Some(Mode::Clear)
        );
        assert!(matches!(
            config(Some(Mode::Encrypt), &[]).mode(),
            Err(PrivacyError::NoRecipients)
        ));
        assert!("plain".parse::<Mode>().is_err());
    }
}
