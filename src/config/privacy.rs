//! `[privacy]`: what happens to failure reports' personal data
//! (`dmarcflow_privacy`). `failure_reports` (`DMARCFLOW_PRIVACY_FAILURE_REPORTS`):
//! `encrypt`, `redact` or `clear`, by default `encrypt` with a recipient and
//! `redact` without; `recipients` (`DMARCFLOW_PRIVACY_RECIPIENTS`,
//! comma-separated): age recipients or files of them; `hash_secret_file`
//! (`DMARCFLOW_PRIVACY_HASH_SECRET_FILE`): the redaction secret, by default
//! `dmarcflow-privacy.secret` beside the SQLite file (in the working
//! directory with ClickHouse), created on first use.

use std::path::PathBuf;

use anyhow::{Context, Result};
use dmarcflow_privacy::{Mode, PrivacyConfig};
use dmarcflow_store::StoreConfig;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySection {
    pub failure_reports: Option<String>,
    #[serde(default)]
    pub recipients: Vec<String>,
    pub hash_secret_file: Option<PathBuf>,
}

/// The file name of the generated secret.
const SECRET_NAME: &str = "dmarcflow-privacy.secret";

/// Where the redaction secret is kept when the configuration names no file:
/// beside the SQLite file, or in the working directory with ClickHouse.
pub fn default_secret(store: &StoreConfig) -> PathBuf {
    match store {
        StoreConfig::Sqlite { path } => path.with_file_name(SECRET_NAME),
        StoreConfig::ClickHouse(_) => PathBuf::from(SECRET_NAME),
    }
}

pub fn privacy(
    section: Option<PrivacySection>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PrivacyConfig> {
    let section = section.unwrap_or_default();
    let mode = match env("DMARCFLOW_PRIVACY_FAILURE_REPORTS").or(section.failure_reports) {
        Some(text) if !text.trim().is_empty() => Some(
            text.parse::<Mode>()
                .context("privacy.failure_reports (DMARCFLOW_PRIVACY_FAILURE_REPORTS)")?,
        ),
        _ => None,
    };
    let recipients = match env("DMARCFLOW_PRIVACY_RECIPIENTS") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        None => section.recipients,
    };
    let hash_secret_file = env("DMARCFLOW_PRIVACY_HASH_SECRET_FILE")
        .map(PathBuf::from)
        .or(section.hash_secret_file);
    let config = PrivacyConfig {
        mode,
        recipients,
        hash_secret_file,
    };
    // A mode that cannot hold (encrypt without a recipient) fails at load.
    config.mode()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn defaults_and_overrides() -> Result<()> {
        let sqlite = StoreConfig::Sqlite {
            path: PathBuf::from("/var/lib/dmarcflow/reports.db"),
        };
        let none = |_: &str| None;
        let c = privacy(None, &none)?;
        assert_eq!(c.mode()?, Mode::Redact);
        assert_eq!(
            default_secret(&sqlite),
            Path::new("/var/lib/dmarcflow/dmarcflow-privacy.secret")
        );
        let env = |name: &str| match name {
            "DMARCFLOW_PRIVACY_RECIPIENTS" => Some("age1a, /etc/owner.txt".to_owned()),
            _ => None,
        };
        let c = privacy(None, &env)?;
        assert_eq!(c.mode()?, Mode::Encrypt);
        assert_eq!(c.recipients, ["age1a", "/etc/owner.txt"]);
        let section = PrivacySection {
            failure_reports: Some("encrypt".into()),
            ..PrivacySection::default()
        };
        assert!(privacy(Some(section), &none).is_err());
        let section = PrivacySection {
            failure_reports: Some("plaintext".into()),
            ..PrivacySection::default()
        };
        assert!(privacy(Some(section), &none).is_err());
        Ok(())
    }
}
