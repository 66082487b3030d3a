//! `[mta_sts]`: hosted MTA-STS (`dmarcflow_hosted`). The HTTPS listener
//! (`[http]`) serves each domain's policy at `mta-sts.<domain>`, choosing
//! the certificate by the name the client asks for (`[[mta_sts.certificate]]`,
//! the listener's own certificate for any other name).
//! `DMARCFLOW_MTA_STS_CNAME_TARGET` and `DMARCFLOW_MTA_STS_TLSRPT_RUA`
//! override the file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use dmarcflow_hosted::mta_sts::{DomainPolicy, Mode, MtaStsConfig};
use serde::Deserialize;

/// RFC 8461 3.2: `max_age` at most a year.
const MAX_AGE_LIMIT: u64 = 31_557_600;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MtaStsSection {
    /// What `mta-sts.<domain>` is a CNAME to (this service's HTTPS name).
    pub cname_target: Option<String>,
    /// The TLS-RPT destination the `_smtp._tls` record names.
    pub tlsrpt_rua: Option<String>,
    /// Seconds between computing the served policies again (default 10).
    pub refresh_secs: Option<u64>,
    #[serde(default)]
    pub certificate: Vec<CertificateSection>,
    /// Certificates for the policy hosts from an ACME CA.
    pub acme: Option<AcmeSection>,
    #[serde(default)]
    pub domains: BTreeMap<String, DomainSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSection {
    /// The host names it serves (`mta-sts.example.com`).
    pub names: Vec<String>,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeSection {
    /// The CA's directory URL (DMARCFLOW_MTA_STS_ACME_DIRECTORY).
    pub directory: Option<String>,
    /// Account contacts (`mailto:...`).
    #[serde(default)]
    pub contact: Vec<String>,
    /// Where the account, certificates and keys are kept (default `acme`).
    pub state_dir: Option<PathBuf>,
    /// A CA certificate to trust for the directory (a private CA).
    pub directory_ca: Option<PathBuf>,
    /// Seconds between looks at the certificates (default 3600).
    pub check_secs: Option<u64>,
    /// Seconds one order may take (default 120).
    pub order_timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSection {
    /// `none`, `testing` (the default) or `enforce`, until `mta-sts set`.
    pub mode: Option<String>,
    /// MX patterns; absent: the domain's MX hosts, looked up.
    #[serde(default)]
    pub mx: Vec<String>,
    /// Seconds (default 604800, a week).
    pub max_age: Option<u64>,
}

/// The hosted domains, and the certificates of their policy hosts.
#[derive(Debug, Clone)]
pub struct MtaSts {
    pub config: MtaStsConfig,
    /// (host names, certificate file, key file).
    pub certificates: Vec<(Vec<String>, PathBuf, PathBuf)>,
    /// Certificates for the other policy hosts from an ACME CA.
    pub acme: Option<dmarcflow_hosted::acme::AcmeConfig>,
}

impl MtaSts {
    /// The policy hosts whose certificates come from ACME: every hosted
    /// domain's, but those given as files.
    pub fn acme_names(&self) -> Vec<String> {
        self.config
            .domains
            .keys()
            .map(|d| dmarcflow_hosted::mta_sts::policy_host(d))
            .filter(|h| {
                !self
                    .certificates
                    .iter()
                    .any(|(names, _, _)| names.iter().any(|n| n.eq_ignore_ascii_case(h)))
            })
            .collect()
    }
}

pub fn mta_sts(
    section: Option<MtaStsSection>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<MtaSts>> {
    let Some(section) = section else {
        return Ok(None);
    };
    let mut domains = BTreeMap::new();
    for (domain, d) in section.domains {
        let name = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let plain = name.contains('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !plain {
            bail!("mta_sts.domains: {domain:?} is not a domain name");
        }
        let mode = match d.mode.as_deref() {
            None => Mode::Testing,
            Some(m) => Mode::parse(m).ok_or_else(|| {
                anyhow::anyhow!("mta_sts.domains.{domain:?}.mode {m:?}: none, testing or enforce")
            })?,
        };
        let max_age = d.max_age.unwrap_or(604_800);
        if max_age > MAX_AGE_LIMIT {
            bail!(
                "mta_sts.domains.{domain:?}.max_age {max_age}: at most {MAX_AGE_LIMIT} (RFC 8461)"
            );
        }
        let mx = d.mx.iter().map(|p| p.trim().to_ascii_lowercase()).collect();
        domains.insert(name, DomainPolicy { mode, mx, max_age });
    }
    let config = MtaStsConfig {
        domains,
        cname_target: env("DMARCFLOW_MTA_STS_CNAME_TARGET").or(section.cname_target),
        tlsrpt_rua: env("DMARCFLOW_MTA_STS_TLSRPT_RUA").or(section.tlsrpt_rua),
        refresh: Duration::from_secs(section.refresh_secs.unwrap_or(10).max(1)),
        zone: None,
    };
    let certificates = section
        .certificate
        .into_iter()
        .map(|c| (c.names, c.cert, c.key))
        .collect();
    let acme = match section.acme {
        None => None,
        Some(a) => {
            let Some(directory) = env("DMARCFLOW_MTA_STS_ACME_DIRECTORY").or(a.directory) else {
                bail!("mta_sts.acme: a directory URL (the CA's)");
            };
            if !directory.starts_with("https://") {
                bail!("mta_sts.acme.directory {directory:?}: an https URL");
            }
            Some(dmarcflow_hosted::acme::AcmeConfig {
                directory,
                contact: a.contact,
                state_dir: a.state_dir.unwrap_or_else(|| PathBuf::from("acme")),
                directory_ca: a.directory_ca,
                check: Duration::from_secs(a.check_secs.unwrap_or(3600).max(1)),
                order_timeout: Duration::from_secs(a.order_timeout_secs.unwrap_or(120).max(1)),
            })
        }
    };
    Ok(Some(MtaSts {
        config,
        certificates,
        acme,
    }))
}
