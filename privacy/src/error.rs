use std::path::PathBuf;

/// Why privacy could not be set up, or a report not protected.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("privacy.failure_reports = {0:?}: expected \"encrypt\", \"redact\" or \"clear\"")]
    Mode(String),
    #[error(
        "privacy.failure_reports = \"encrypt\" needs at least one entry in privacy.recipients"
    )]
    NoRecipients,
    #[error(
        "privacy.recipients: {0:?} is neither an age recipient (age1...) nor a readable file: {1}"
    )]
    RecipientFile(String, String),
    #[error("privacy.recipients: {origin}: {reason}")]
    Recipient { origin: String, reason: String },
    #[error("the redaction secret {path}: {reason}")]
    Secret { path: PathBuf, reason: String },
    #[error("the redaction secret is not a usable key: {0}")]
    SecretKey(String),
    #[error("the identity file {path}: {reason}")]
    Identity { path: PathBuf, reason: String },
    #[error("sealing: {0}")]
    Seal(String),
    #[error("opening a sealed report: {0}")]
    Open(String),
}
