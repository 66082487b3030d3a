//! MX records: where the domain receives mail (the hosts MTA-STS must
//! cover), or a null MX (RFC 7505) saying it receives none.

use serde::Serialize;

use crate::dns::{Dns, Lookup};
use crate::finding::Finding;
use crate::starttls::MxTls;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mx {
    pub preference: u16,
    pub host: String,
    /// What the host showed on port 25 ([`crate::starttls`]), when probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<MxTls>,
}

pub async fn check(dns: &impl Dns, domain: &str, findings: &mut Vec<Finding>) -> Vec<Mx> {
    let mut hosts: Vec<Mx> = match dns.mx(domain).await {
        Lookup::Found(found) => found
            .into_iter()
            .map(|(preference, host)| Mx {
                preference,
                host,
                tls: None,
            })
            .collect(),
        Lookup::Absent => {
            findings.push(Finding::info(
                "mx.missing",
                format!("{domain} has no MX records: mail to it goes to its address records, if any (publish \"0 .\", a null MX, if it receives no mail)"),
            ));
            return Vec::new();
        }
        Lookup::Failed(why) => {
            findings.push(Finding::warning(
                "mx.lookup_failed",
                format!("{domain}'s MX records could not be looked up: {why}"),
            ));
            return Vec::new();
        }
    };
    hosts.sort_by(|a, b| (a.preference, &a.host).cmp(&(b.preference, &b.host)));
    if hosts.iter().any(|m| m.host.is_empty()) {
        findings.push(Finding::info(
            "mx.null",
            format!("{domain} publishes a null MX: it receives no mail"),
        ));
    }
    hosts
}
