//! MX records: where the domain receives mail (the hosts MTA-STS must
//! cover), or a null MX (RFC 7505) saying it receives none; and each
//! host's reverse DNS (the first address of at most
//! [`crate::starttls::MAX_HOSTS`] hosts): a host without a PTR name, or
//! whose name does not resolve back to it, is distrusted by many receivers
//! when it also sends, as MX hosts often do.

use serde::Serialize;

use crate::dns::{Dns, Lookup};
use crate::finding::Finding;
use crate::starttls::MxTls;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mx {
    pub preference: u16,
    pub host: String,
    /// The address whose reverse DNS was read, and its PTR names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ptr: Vec<String>,
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
                address: None,
                ptr: Vec::new(),
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
    let reverse = hosts
        .iter()
        .filter(|m| !m.host.is_empty())
        .take(crate::starttls::MAX_HOSTS)
        .map(|m| reverse_dns(dns, &m.host));
    let seen = futures_util::future::join_all(reverse).await;
    for (mx, (address, ptr, finding)) in hosts.iter_mut().filter(|m| !m.host.is_empty()).zip(seen) {
        mx.address = address;
        mx.ptr = ptr;
        findings.extend(finding);
    }
    hosts
}

/// The first address of `host`, its PTR names, and the finding when they
/// are missing or do not lead back to the address.
async fn reverse_dns(dns: &impl Dns, host: &str) -> (Option<String>, Vec<String>, Option<Finding>) {
    let Lookup::Found(addresses) = dns.addresses(host).await else {
        return (None, Vec::new(), None);
    };
    let ip = addresses[0];
    match dns.ptr(ip).await {
        Lookup::Found(names) => {
            let mut confirmed = false;
            for name in names.iter().take(4) {
                if let Lookup::Found(back) = dns.addresses(name).await {
                    confirmed |= back.contains(&ip);
                }
            }
            let finding = (!confirmed).then(|| {
                Finding::info(
                    "mx.ptr_mismatch",
                    format!(
                        "{ip} ({host}) has the reverse DNS name {} but it does not resolve back to {ip}",
                        names.join(", ")
                    ),
                )
            });
            (Some(ip.to_string()), names, finding)
        }
        Lookup::Absent => (
            Some(ip.to_string()),
            Vec::new(),
            Some(Finding::info(
                "mx.ptr_missing",
                format!("{ip} ({host}) has no reverse DNS (PTR) record: receivers distrust mail sent from an address without one"),
            )),
        ),
        Lookup::Failed(_) => (Some(ip.to_string()), Vec::new(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::FakeDns;

    #[test]
    fn reverse_dns_missing_mismatched_and_confirmed() {
        let mut dns = FakeDns::default()
            .with_mx("example.com", 10, "mx1.example.com")
            .with_mx("example.com", 20, "mx2.example.com")
            .with_mx("example.com", 30, "mx3.example.com")
            .with_address("mx1.example.com", "192.0.2.1")
            .with_address("mx2.example.com", "192.0.2.2")
            .with_address("mx3.example.com", "192.0.2.3")
            .with_address("out.example.net", "198.51.100.1");
        let ip = |s: &str| s.parse().unwrap_or_else(|e| panic!("{e}"));
        dns.ptr
            .insert(ip("192.0.2.2"), vec!["out.example.net".into()]);
        dns.ptr
            .insert(ip("192.0.2.3"), vec!["mx3.example.com".into()]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut findings = Vec::new();
        let hosts = rt.block_on(check(&dns, "example.com", &mut findings));
        let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["mx.ptr_missing", "mx.ptr_mismatch"]);
        assert_eq!(
            findings[0].message,
            "192.0.2.1 (mx1.example.com) has no reverse DNS (PTR) record: receivers distrust mail sent from an address without one"
        );
        assert_eq!(hosts[2].ptr, ["mx3.example.com"]);
        assert_eq!(hosts[2].address.as_deref(), Some("192.0.2.3"));
    }
}
