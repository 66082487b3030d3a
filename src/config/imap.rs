//! The IMAP source (`[imap]`, `DMARCFLOW_IMAP_*`). The password comes from
//! `DMARCFLOW_IMAP_PASSWORD` or `password_file`, never from the TOML.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dmarcflow_ingest::imap::{roots_from_pem, web_pki_roots, AfterAck, ImapConfig, Security};
use serde::Deserialize;

use super::value::number;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapSection {
    pub host: Option<String>,
    pub port: Option<u16>,
    /// `tls` (default, port 993), `starttls` (143) or `plain`.
    pub security: Option<String>,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    /// PEM roots to trust instead of the public web PKI.
    pub ca_file: Option<PathBuf>,
    pub mailboxes: Option<Vec<String>>,
    /// `move` (default) or `flag`.
    pub after: Option<String>,
    pub processed_folder: Option<String>,
    pub invalid_folder: Option<String>,
    pub idle: Option<bool>,
    pub poll_interval_secs: Option<u64>,
    pub max_message_bytes: Option<u64>,
}

/// The resolved IMAP source.
#[derive(Debug, Clone)]
pub struct Imap {
    pub config: ImapConfig,
}

pub fn imap(section: ImapSection, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Imap>> {
    let Some(host) = env("DMARCFLOW_IMAP_HOST").or(section.host) else {
        return Ok(None);
    };
    let text = |name: &str, file: Option<String>| env(name).or(file);
    let security = match text("DMARCFLOW_IMAP_SECURITY", section.security)
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("tls") => Security::Tls,
        Some("starttls") => Security::StartTls,
        Some("plain") => Security::Plain,
        Some(other) => bail!("imap: security {other:?} (tls, starttls or plain)"),
    };
    let username =
        text("DMARCFLOW_IMAP_USERNAME", section.username).context("imap: username is required")?;
    let password_file = env("DMARCFLOW_IMAP_PASSWORD_FILE")
        .map(PathBuf::from)
        .or(section.password_file);
    let password = match (env("DMARCFLOW_IMAP_PASSWORD"), password_file) {
        (Some(p), _) => p,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .with_context(|| format!("reading the IMAP password file {}", path.display()))?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        (None, None) => bail!("imap: DMARCFLOW_IMAP_PASSWORD or password_file is required"),
    };
    let tls = match env("DMARCFLOW_IMAP_CA_FILE")
        .map(PathBuf::from)
        .or(section.ca_file)
    {
        Some(path) => {
            roots_from_pem(&path).with_context(|| format!("loading {}", path.display()))?
        }
        None => web_pki_roots()?,
    };
    let mut config = ImapConfig::new(host, username, password, tls);
    config.security = security;
    let number = |name: &str, file: Option<u64>| number(env, name, file);
    config.port = match number("DMARCFLOW_IMAP_PORT", section.port.map(u64::from))? {
        Some(p) => u16::try_from(p).context("imap: port")?,
        None if security == Security::Tls => 993,
        None => 143,
    };
    if let Some(list) = env("DMARCFLOW_IMAP_MAILBOXES") {
        config.mailboxes = list
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
    } else if let Some(list) = section.mailboxes {
        config.mailboxes = list;
    }
    let processed = text("DMARCFLOW_IMAP_PROCESSED_FOLDER", section.processed_folder)
        .unwrap_or_else(|| "Archive/Processed".to_owned());
    let invalid = text("DMARCFLOW_IMAP_INVALID_FOLDER", section.invalid_folder)
        .unwrap_or_else(|| "Archive/Invalid".to_owned());
    config.after = match text("DMARCFLOW_IMAP_AFTER", section.after).as_deref() {
        None | Some("move") => AfterAck::Move { processed, invalid },
        Some("flag") => AfterAck::Flag,
        Some(other) => bail!("imap: after {other:?} (move or flag)"),
    };
    config.idle = match env("DMARCFLOW_IMAP_IDLE") {
        Some(v) => matches!(v.trim(), "1" | "true" | "yes"),
        None => section.idle.unwrap_or(true),
    };
    if let Some(s) = number(
        "DMARCFLOW_IMAP_POLL_INTERVAL_SECS",
        section.poll_interval_secs,
    )? {
        config.poll_interval = Duration::from_secs(s.max(1));
    }
    if let Some(n) = section.max_message_bytes {
        config.max_message_bytes = n;
    }
    config.check().map_err(anyhow::Error::msg)?;
    Ok(Some(Imap { config }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_file_and_environment() -> Result<()> {
        let section: ImapSection = toml::from_str(
            "host = \"imap.example\"\nusername = \"dmarc\"\nmailboxes = [\"INBOX\", \"Reports\"]\nafter = \"flag\"\nsecurity = \"starttls\"\n",
        )?;
        let env = |name: &str| match name {
            "DMARCFLOW_IMAP_PASSWORD" => Some("secret".to_owned()),
            "DMARCFLOW_IMAP_POLL_INTERVAL_SECS" => Some("30".to_owned()),
            _ => None,
        };
        let imap = imap(section, &env)?.context("configured")?;
        assert_eq!(imap.config.port, 143);
        assert_eq!(imap.config.security, Security::StartTls);
        assert_eq!(imap.config.mailboxes, vec!["INBOX", "Reports"]);
        assert_eq!(imap.config.after, AfterAck::Flag);
        assert_eq!(imap.config.password, "secret");
        assert_eq!(imap.config.poll_interval, Duration::from_secs(30));
        Ok(())
    }

    #[test]
    fn a_password_is_required_and_a_watched_target_refused() -> Result<()> {
        let section: ImapSection = toml::from_str("host = \"h\"\nusername = \"u\"\n")?;
        assert!(imap(section, &|_: &str| None).is_err());
        let section: ImapSection = toml::from_str(
            "host = \"h\"\nusername = \"u\"\nmailboxes = [\"INBOX\", \"Archive/Processed\"]\n",
        )?;
        let env = |name: &str| (name == "DMARCFLOW_IMAP_PASSWORD").then(|| "p".to_owned());
        assert!(imap(section, &env).is_err());
        Ok(())
    }
}
