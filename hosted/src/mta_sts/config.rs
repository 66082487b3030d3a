//! `[mta_sts]`: the hosted domains and their policies, and what the
//! records to publish point at.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Mode;

/// One hosted domain's policy as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainPolicy {
    /// The mode until `dmarcflow mta-sts set` stores another.
    pub mode: Mode,
    /// MX patterns; empty: the domain's MX hosts as looked up now.
    pub mx: Vec<String>,
    /// Seconds (RFC 8461 allows at most 31,557,600).
    pub max_age: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtaStsConfig {
    /// By domain (lower case).
    pub domains: BTreeMap<String, DomainPolicy>,
    /// What `mta-sts.<domain>` is a CNAME to (this service's HTTPS name);
    /// None: the records say to give it this service's addresses.
    pub cname_target: Option<String>,
    /// The TLS-RPT destination `_smtp._tls` names (this service's endpoint,
    /// `https://.../` or `mailto:`).
    pub tlsrpt_rua: Option<String>,
    /// How often the served policies are computed again (modes from the
    /// store, MX hosts from the DNS).
    pub refresh: Duration,
    /// The hosted DNS zone (`[dns] zone`): owners delegate `_mta-sts` and
    /// `_smtp._tls` to it by CNAME, once.
    pub zone: Option<String>,
}

impl Default for MtaStsConfig {
    fn default() -> Self {
        Self {
            domains: BTreeMap::new(),
            cname_target: None,
            tlsrpt_rua: None,
            refresh: Duration::from_secs(10),
            zone: None,
        }
    }
}
