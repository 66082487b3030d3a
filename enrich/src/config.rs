//! What `[enrich]` configures, and the [`Enricher`] it opens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::{
    DnsConfig, EnrichError, Enricher, NetworkDatabases, ReportVerifier, ReverseDns, SenderMap,
    SourceCache, SuffixList, Unauthenticated,
};

#[derive(Debug, Clone)]
pub struct EnrichConfig {
    /// MMDB files, in order (`mmdb`).
    pub mmdb: Vec<PathBuf>,
    /// Reverse DNS on (`dns`, default true).
    pub dns: bool,
    /// Name servers (`nameservers`); empty: those of /etc/resolv.conf.
    pub nameservers: Vec<SocketAddr>,
    /// The whole DNS lookup of one address (`timeout_ms`, default 2000).
    pub timeout: Option<Duration>,
    /// The user's sender entries (`senders`), over the project's map.
    pub senders: Option<PathBuf>,
    /// A Public Suffix List file (`public_suffix_list`) instead of the
    /// compiled-in list.
    pub public_suffix_list: Option<PathBuf>,
    /// Verify the DKIM signatures of report emails (`verify_reports`,
    /// default true; needs `dns`).
    pub verify_reports: bool,
    /// `unauthenticated = "store" | "dead-letter"`.
    pub unauthenticated: Unauthenticated,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        Self {
            mmdb: Vec::new(),
            dns: true,
            nameservers: Vec::new(),
            timeout: None,
            senders: None,
            public_suffix_list: None,
            verify_reports: true,
            unauthenticated: Unauthenticated::Store,
        }
    }
}

impl Enricher {
    /// Opens what `config` names; a file that cannot be read is an error
    /// at start, not a silent gap later.
    pub fn open(config: &EnrichConfig) -> Result<Self, EnrichError> {
        let dns = if config.dns {
            let mut nameservers = config.nameservers.clone();
            if nameservers.is_empty() {
                nameservers = system_nameservers()?;
            }
            let mut dns = DnsConfig {
                nameservers,
                ..DnsConfig::default()
            };
            if let Some(timeout) = config.timeout {
                dns.timeout = timeout;
            }
            Some(ReverseDns::new(&dns)?)
        } else {
            None
        };
        let verifier = match (&dns, config.verify_reports) {
            (Some(dns), true) => Some(ReportVerifier::new(
                dns.resolver().clone(),
                // A message has a few signatures, each a TXT lookup.
                dns.timeout() * 2,
            )),
            _ => None,
        };
        Ok(Self {
            dns,
            verifier,
            unauthenticated: config.unauthenticated,
            networks: NetworkDatabases::open(&config.mmdb)?,
            suffixes: match &config.public_suffix_list {
                Some(path) => SuffixList::open(path)?,
                None => SuffixList::Builtin,
            },
            senders: match &config.senders {
                Some(path) => SenderMap::with_user_file(path)?,
                None => SenderMap::builtin(),
            },
            cache: SourceCache::default(),
        })
    }
}

/// The `nameserver` lines of /etc/resolv.conf, port 53.
pub fn system_nameservers() -> Result<Vec<SocketAddr>, EnrichError> {
    let path = "/etc/resolv.conf";
    let text = std::fs::read_to_string(path).map_err(|error| EnrichError::Read {
        path: path.into(),
        error,
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|ip| ip.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect())
}
