//! The network sources that listen: the SMTP/LMTP listener and the HTTPS
//! TLS-RPT endpoint (`[smtp]`, `[http]`, `DMARCFLOW_SMTP_*`, `DMARCFLOW_HTTP_*`),
//! with their caps and timeouts. A cap left unset is sized at start from
//! the open-file limit and the memory budget (`dmarcflow_listen::Limits`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use dmarcflow_ingest::http::HttpConfig;
use dmarcflow_ingest::smtp::{tls_from_pem, SmtpConfig, SmtpTimeouts};
use dmarcflow_listen::certificates::{certified_key, SniCertificates};
use dmarcflow_listen::Limits;

use super::value::{number, seconds};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub max_body_bytes: Option<usize>,
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    pub tls_handshake_timeout_secs: Option<u64>,
    pub header_timeout_secs: Option<u64>,
    pub keep_alive_secs: Option<u64>,
    pub min_body_rate: Option<u64>,
    pub body_grace_secs: Option<u64>,
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
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    pub command_timeout_secs: Option<u64>,
    pub data_timeout_secs: Option<u64>,
    pub session_timeout_secs: Option<u64>,
    pub tls_handshake_timeout_secs: Option<u64>,
}

/// A listener's caps as configured; what is unset is sized at start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
}

impl Caps {
    fn read(
        env: &dyn Fn(&str) -> Option<String>,
        prefix: &str,
        max_connections: Option<usize>,
        max_connections_per_ip: Option<usize>,
    ) -> Result<Self> {
        let caps = Self {
            max_connections: number(env, &format!("{prefix}_MAX_CONNECTIONS"), max_connections)?,
            max_connections_per_ip: number(
                env,
                &format!("{prefix}_MAX_CONNECTIONS_PER_IP"),
                max_connections_per_ip,
            )?,
        };
        if caps.max_connections == Some(0) || caps.max_connections_per_ip == Some(0) {
            bail!("{prefix}: a connection cap of 0 would refuse every client");
        }
        Ok(caps)
    }

    /// The caps in force: the configured ones over `sized` (the defaults
    /// for this process).
    pub fn over(self, sized: Limits) -> Limits {
        Limits {
            max_connections: self.max_connections.unwrap_or(sized.max_connections),
            max_connections_per_ip: self
                .max_connections_per_ip
                .unwrap_or(sized.max_connections_per_ip),
            reserve_bytes: sized.reserve_bytes,
        }
    }
}

/// The HTTPS endpoint for TLS reports: where, and how.
#[derive(Debug, Clone)]
pub struct Http {
    pub listen: String,
    pub config: HttpConfig,
    pub caps: Caps,
    /// The listener's own certificate and key files, if TLS.
    pub tls_files: Option<(PathBuf, PathBuf)>,
    /// With hosted MTA-STS: the certificates by name (ACME swaps its own in).
    pub sni: Option<std::sync::Arc<SniCertificates>>,
}

/// The SMTP/LMTP listener: where, and how.
#[derive(Debug, Clone)]
pub struct Smtp {
    pub listen: String,
    pub config: SmtpConfig,
    pub caps: Caps,
}

pub fn http(section: HttpSection, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Http>> {
    let Some(listen) = env("DMARCFLOW_HTTP_LISTEN").or(section.listen) else {
        return Ok(None);
    };
    let mut config = HttpConfig::default();
    if let Some(n) = section.max_body_bytes {
        config.max_body_bytes = n;
    }
    let tls_files = match (
        env("DMARCFLOW_HTTP_TLS_CERT")
            .map(PathBuf::from)
            .or(section.tls_cert.clone()),
        env("DMARCFLOW_HTTP_TLS_KEY")
            .map(PathBuf::from)
            .or(section.tls_key.clone()),
    ) {
        (Some(cert), Some(key)) => Some((cert, key)),
        _ => None,
    };
    config.tls = tls(env, "http", section.tls_cert, section.tls_key)?;
    let defaults = HttpConfig::default();
    let var = |key: &str| format!("DMARCFLOW_HTTP_{key}");
    config.tls_handshake = seconds(
        env,
        &var("TLS_HANDSHAKE_TIMEOUT_SECS"),
        section.tls_handshake_timeout_secs,
        defaults.tls_handshake,
    )?;
    config.request.header = seconds(
        env,
        &var("HEADER_TIMEOUT_SECS"),
        section.header_timeout_secs,
        defaults.request.header,
    )?;
    config.request.keep_alive = seconds(
        env,
        &var("KEEP_ALIVE_SECS"),
        section.keep_alive_secs,
        defaults.request.keep_alive,
    )?;
    config.min_body_rate = number(env, &var("MIN_BODY_RATE"), section.min_body_rate)?
        .unwrap_or(defaults.min_body_rate);
    config.body_grace = seconds(
        env,
        &var("BODY_GRACE_SECS"),
        section.body_grace_secs,
        defaults.body_grace,
    )?;
    let caps = Caps::read(
        env,
        "DMARCFLOW_HTTP",
        section.max_connections,
        section.max_connections_per_ip,
    )?;
    Ok(Some(Http {
        listen,
        config,
        caps,
        tls_files,
        sni: None,
    }))
}

/// The HTTPS listener serving hosted MTA-STS: its certificate chosen by the
/// name the client asks for, each `[[mta_sts.certificate]]` for its names,
/// the listener's own for any other (`listen::certificates`).
pub fn serve_hosted_certificates(http: &mut Http, hosted: &super::mta_sts::MtaSts) -> Result<()> {
    if hosted.certificates.is_empty() && hosted.acme.is_none() {
        return Ok(());
    }
    let default = match &http.tls_files {
        Some((cert, key)) => Some(
            certified_key(cert, key)
                .with_context(|| format!("loading {} and {}", cert.display(), key.display()))?,
        ),
        None => {
            bail!("[mta_sts] certificates need HTTPS on the listener: [http] tls_cert and tls_key")
        }
    };
    let names = std::sync::Arc::new(SniCertificates::new(default));
    for (hosts, cert, key) in &hosted.certificates {
        let certified = certified_key(cert, key)
            .with_context(|| format!("loading {} and {}", cert.display(), key.display()))?;
        for host in hosts {
            names.set(host, certified.clone());
        }
    }
    http.config.tls = Some(names.server_config()?);
    http.sni = Some(names);
    Ok(())
}

/// A TLS configuration from a certificate and key given together (or neither).
/// A listener's certificate and key (`DMARCFLOW_<SECTION>_TLS_CERT` and
/// `_TLS_KEY` over the file's `tls_cert` and `tls_key`), loaded; None
/// without either.
fn tls(
    env: &dyn Fn(&str) -> Option<String>,
    section: &str,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> Result<Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>> {
    let var = |name: &str| {
        env(&format!(
            "DMARCFLOW_{}_{name}",
            section.to_ascii_uppercase()
        ))
    };
    let cert = var("TLS_CERT").map(PathBuf::from).or(cert);
    let key = var("TLS_KEY").map(PathBuf::from).or(key);
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
    config.bus_timeout = seconds(
        env,
        "DMARCFLOW_SMTP_BUS_TIMEOUT_SECS",
        section.bus_timeout_secs,
        config.bus_timeout,
    )?;
    let defaults = SmtpTimeouts::default();
    let var = |key: &str| format!("DMARCFLOW_SMTP_{key}");
    config.timeouts = SmtpTimeouts {
        command: seconds(
            env,
            &var("COMMAND_TIMEOUT_SECS"),
            section.command_timeout_secs,
            defaults.command,
        )?,
        data: seconds(
            env,
            &var("DATA_TIMEOUT_SECS"),
            section.data_timeout_secs,
            defaults.data,
        )?,
        session: seconds(
            env,
            &var("SESSION_TIMEOUT_SECS"),
            section.session_timeout_secs,
            defaults.session,
        )?,
        tls_handshake: seconds(
            env,
            &var("TLS_HANDSHAKE_TIMEOUT_SECS"),
            section.tls_handshake_timeout_secs,
            defaults.tls_handshake,
        )?,
    };
    config.tls = tls(env, "smtp", section.tls_cert, section.tls_key)?;
    if config.require_tls && config.tls.is_none() {
        bail!("smtp: require_tls needs tls_cert and tls_key");
    }
    let caps = Caps::read(
        env,
        "DMARCFLOW_SMTP",
        section.max_connections,
        section.max_connections_per_ip,
    )?;
    Ok(Some(Smtp {
        listen,
        config,
        caps,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn caps_and_timeouts_from_file_and_environment() -> Result<()> {
        let section = SmtpSection {
            listen: Some("127.0.0.1:2525".into()),
            max_connections: Some(300),
            command_timeout_secs: Some(60),
            ..SmtpSection::default()
        };
        let vars = [
            ("DMARCFLOW_SMTP_MAX_CONNECTIONS_PER_IP", "7"),
            ("DMARCFLOW_SMTP_DATA_TIMEOUT_SECS", "9"),
        ];
        let smtp = smtp(section, &env(&vars))?.context("configured")?;
        assert_eq!(
            smtp.caps,
            Caps {
                max_connections: Some(300),
                max_connections_per_ip: Some(7)
            }
        );
        assert_eq!(smtp.config.timeouts.command, Duration::from_secs(60));
        assert_eq!(smtp.config.timeouts.data, Duration::from_secs(9));
        assert_eq!(smtp.config.timeouts.session, Duration::from_secs(1800));
        let sized = Limits::sized(1 << 20, 128 << 20, 2, 64 << 10);
        let limits = smtp.caps.over(sized);
        assert_eq!(
            (limits.max_connections, limits.max_connections_per_ip),
            (300, 7)
        );

        let section = HttpSection {
            listen: Some("127.0.0.1:8443".into()),
            keep_alive_secs: Some(5),
            ..HttpSection::default()
        };
        let vars = [
            ("DMARCFLOW_HTTP_MIN_BODY_RATE", "100"),
            ("DMARCFLOW_HTTP_HEADER_TIMEOUT_SECS", "3"),
        ];
        let endpoint = http(section, &env(&vars))?.context("configured")?;
        assert_eq!(endpoint.caps, Caps::default());
        assert_eq!(endpoint.config.request.keep_alive, Duration::from_secs(5));
        assert_eq!(endpoint.config.request.header, Duration::from_secs(3));
        assert_eq!(endpoint.config.min_body_rate, 100);
        assert_eq!(endpoint.config.tls_handshake, Duration::from_secs(30));
        let zero = [("DMARCFLOW_HTTP_MAX_CONNECTIONS", "0")];
        let section = HttpSection {
            listen: Some("127.0.0.1:8443".into()),
            ..HttpSection::default()
        };
        assert!(http(section, &env(&zero)).is_err());
        Ok(())
    }
}
