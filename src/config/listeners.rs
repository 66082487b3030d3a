//! The network sources that listen: the SMTP/LMTP listener and the HTTPS
//! TLS-RPT endpoint (`[smtp]`, `[http]`, `DMARCFLOW_SMTP_*`, `DMARCFLOW_HTTP_*`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dmarcflow_ingest::http::HttpConfig;
use dmarcflow_ingest::smtp::{tls_from_pem, SmtpConfig};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub max_body_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSection {
    pub listen: Option<String>,
    pub hostname: Option<String>,
    pub lmtp: Option<bool>,
    pub max_message_bytes: Option<usize>,
    pub allowed_recipients: Option<Vec<String>>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub require_tls: Option<bool>,
    pub bus_timeout_secs: Option<u64>,
}

/// The HTTPS endpoint for TLS reports: where, and how.
#[derive(Debug, Clone)]
pub struct Http {
    pub listen: String,
    pub config: HttpConfig,
}

/// The SMTP/LMTP listener: where, and how.
#[derive(Debug, Clone)]
pub struct Smtp {
    pub listen: String,
    pub config: SmtpConfig,
}

pub fn http(section: HttpSection, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Http>> {
    let Some(listen) = env("DMARCFLOW_HTTP_LISTEN").or(section.listen) else {
        return Ok(None);
    };
    let mut config = HttpConfig::default();
    if let Some(n) = section.max_body_bytes {
        config.max_body_bytes = n;
    }
    config.tls = tls(
        env("DMARCFLOW_HTTP_TLS_CERT")
            .map(PathBuf::from)
            .or(section.tls_cert),
        env("DMARCFLOW_HTTP_TLS_KEY")
            .map(PathBuf::from)
            .or(section.tls_key),
        "http",
    )?;
    Ok(Some(Http { listen, config }))
}

/// A TLS configuration from a certificate and key given together (or neither).
fn tls(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    section: &str,
) -> Result<Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>> {
    match (cert, key) {
        (Some(cert), Some(key)) => {
            Ok(Some(tls_from_pem(&cert, &key).with_context(|| {
                format!("loading {} and {}", cert.display(), key.display())
            })?))
        }
        (None, None) => Ok(None),
        _ => bail!("{section}: tls_cert and tls_key go together"),
    }
}

pub fn smtp(section: SmtpSection, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Smtp>> {
    let Some(listen) = env("DMARCFLOW_SMTP_LISTEN").or(section.listen) else {
        return Ok(None);
    };
    let flag = |name: &str, file: Option<bool>| match env(name) {
        Some(v) => matches!(v.trim(), "1" | "true" | "yes"),
        None => file.unwrap_or(false),
    };
    let hostname = env("DMARCFLOW_SMTP_HOSTNAME")
        .or(section.hostname)
        .unwrap_or_else(|| "localhost".to_owned());
    let mut config = SmtpConfig::new(hostname);
    config.lmtp = flag("DMARCFLOW_SMTP_LMTP", section.lmtp);
    config.require_tls = flag("DMARCFLOW_SMTP_REQUIRE_TLS", section.require_tls);
    if let Some(n) = section.max_message_bytes {
        config.max_message_bytes = n;
    }
    config.allowed_recipients = match env("DMARCFLOW_SMTP_ALLOWED_RECIPIENTS") {
        Some(list) => list
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        None => section.allowed_recipients.unwrap_or_default(),
    };
    let seconds = match env("DMARCFLOW_SMTP_BUS_TIMEOUT_SECS") {
        Some(v) => v
            .trim()
            .parse()
            .with_context(|| format!("DMARCFLOW_SMTP_BUS_TIMEOUT_SECS={v:?}"))?,
        None => section.bus_timeout_secs.unwrap_or(30),
    };
    config.bus_timeout = Duration::from_secs(seconds);
    config.tls = tls(
        env("DMARCFLOW_SMTP_TLS_CERT")
            .map(PathBuf::from)
            .or(section.tls_cert),
        env("DMARCFLOW_SMTP_TLS_KEY")
            .map(PathBuf::from)
            .or(section.tls_key),
        "smtp",
    )?;
    if config.require_tls && config.tls.is_none() {
        bail!("smtp: require_tls needs tls_cert and tls_key");
    }
    Ok(Some(Smtp { listen, config }))
}
