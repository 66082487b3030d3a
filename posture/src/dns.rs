//! The DNS a posture check reads, behind a trait so the record logic can
//! be tested on an in-memory zone and run on hickory's resolver (pointed
//! at `[enrich] nameservers`, the same resolver reverse DNS uses).
//!
//! What is bounded: each lookup by the resolver's timeout; what one answer
//! may hold ([`MAX_TXT_RECORDS`] records of at most [`MAX_TXT_BYTES`] each,
//! more is an oversized answer, reported, never kept); the number of
//! lookups one domain's check makes is bounded by the checks themselves
//! (the SPF walk stops at [`crate::spf::MAX_FOLLOWED_LOOKUPS`]).

use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;

/// TXT records kept from one answer.
pub const MAX_TXT_RECORDS: usize = 32;
/// Bytes of one TXT record (its strings joined) kept.
pub const MAX_TXT_BYTES: usize = 8192;
/// MX records kept from one answer.
pub const MAX_MX_RECORDS: usize = 64;

/// What one lookup came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    Found(T),
    /// NXDOMAIN, or the name exists without records of the type (both are
    /// a "void lookup" for SPF, RFC 7208 4.6.4).
    Absent,
    /// No answer to trust: a timeout, SERVFAIL, a CNAME loop, an answer
    /// over the bounds; the reason, for the finding.
    Failed(String),
}

impl<T> Lookup<T> {
    pub fn found(self) -> Option<T> {
        match self {
            Lookup::Found(t) => Some(t),
            _ => None,
        }
    }
}

/// The lookups a check makes.
pub trait Dns: Sync {
    /// TXT records at `name`, each record's strings joined (RFC 7208 3.3).
    fn txt(&self, name: &str) -> impl Future<Output = Lookup<Vec<String>>> + Send;
    /// MX records at `name`: (preference, exchange without the final dot).
    fn mx(&self, name: &str) -> impl Future<Output = Lookup<Vec<(u16, String)>>> + Send;
    /// A and AAAA addresses of `name`.
    fn addresses(&self, name: &str) -> impl Future<Output = Lookup<Vec<IpAddr>>> + Send;
    /// PTR names of `ip` (without the final dot).
    fn ptr(&self, ip: IpAddr) -> impl Future<Output = Lookup<Vec<String>>> + Send;
}

/// The reverse-DNS name of an address (`4.3.2.1.in-addr.arpa`, nibbles
/// under `ip6.arpa`).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut out = String::new();
            for byte in v6.octets().iter().rev() {
                out.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            out + "ip6.arpa"
        }
    }
}

/// hickory's resolver, with a count of the queries sent (for the bench's
/// lookups per domain).
pub struct HickoryDns {
    resolver: TokioResolver,
    timeout: Duration,
    queries: AtomicU64,
}

impl HickoryDns {
    pub fn new(resolver: TokioResolver, timeout: Duration) -> Self {
        Self {
            resolver,
            timeout,
            queries: AtomicU64::new(0),
        }
    }

    /// Queries sent so far.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    async fn lookup(
        &self,
        name: &str,
        kind: RecordType,
    ) -> Lookup<Vec<hickory_resolver::proto::rr::Record>> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match tokio::time::timeout(self.timeout, self.resolver.lookup(fqdn.as_str(), kind)).await {
            Err(_) => Lookup::Failed(format!(
                "no answer for {name} {kind} within {:?}",
                self.timeout
            )),
            Ok(Ok(found)) => Lookup::Found(found.answers().to_vec()),
            Ok(Err(e)) if e.is_no_records_found() || e.is_nx_domain() => Lookup::Absent,
            Ok(Err(e)) => Lookup::Failed(format!("{name} {kind}: {e}")),
        }
    }
}

impl Dns for HickoryDns {
    async fn txt(&self, name: &str) -> Lookup<Vec<String>> {
        let records = match self.lookup(name, RecordType::TXT).await {
            Lookup::Found(records) => records,
            Lookup::Absent => return Lookup::Absent,
            Lookup::Failed(why) => return Lookup::Failed(why),
        };
        let mut texts = Vec::new();
        for record in &records {
            let RData::TXT(txt) = &record.data else {
                continue;
            };
            if texts.len() == MAX_TXT_RECORDS {
                return Lookup::Failed(format!("{name}: more than {MAX_TXT_RECORDS} TXT records"));
            }
            let mut text = Vec::new();
            for part in txt.txt_data.iter() {
                text.extend_from_slice(part);
            }
            if text.len() > MAX_TXT_BYTES {
                return Lookup::Failed(format!(
                    "{name}: a TXT record of {} bytes (more than {MAX_TXT_BYTES})",
                    text.len()
                ));
            }
            texts.push(String::from_utf8_lossy(&text).into_owned());
        }
        if texts.is_empty() {
            Lookup::Absent
        } else {
            Lookup::Found(texts)
        }
    }

    async fn mx(&self, name: &str) -> Lookup<Vec<(u16, String)>> {
        let records = match self.lookup(name, RecordType::MX).await {
            Lookup::Found(records) => records,
            Lookup::Absent => return Lookup::Absent,
            Lookup::Failed(why) => return Lookup::Failed(why),
        };
        let mx: Vec<(u16, String)> = records
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((
                    mx.preference,
                    mx.exchange
                        .to_ascii()
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                )),
                _ => None,
            })
            .take(MAX_MX_RECORDS)
            .collect();
        if mx.is_empty() {
            Lookup::Absent
        } else {
            Lookup::Found(mx)
        }
    }

    async fn addresses(&self, name: &str) -> Lookup<Vec<IpAddr>> {
        let mut found = Vec::new();
        let mut failed = None;
        for kind in [RecordType::A, RecordType::AAAA] {
            match self.lookup(name, kind).await {
                Lookup::Found(records) => {
                    found.extend(records.iter().filter_map(|r| match &r.data {
                        RData::A(a) => Some(IpAddr::V4(a.0)),
                        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                        _ => None,
                    }))
                }
                Lookup::Absent => {}
                Lookup::Failed(why) => failed = Some(why),
            }
        }
        match (found.is_empty(), failed) {
            (false, _) => Lookup::Found(found),
            (true, Some(why)) => Lookup::Failed(why),
            (true, None) => Lookup::Absent,
        }
    }

    async fn ptr(&self, ip: IpAddr) -> Lookup<Vec<String>> {
        match self.lookup(&reverse_name(ip), RecordType::PTR).await {
            Lookup::Found(records) => {
                let names: Vec<String> = records
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::PTR(name) => {
                            Some(name.0.to_ascii().trim_end_matches('.').to_owned())
                        }
                        _ => None,
                    })
                    .take(MAX_MX_RECORDS)
                    .collect();
                if names.is_empty() {
                    Lookup::Absent
                } else {
                    Lookup::Found(names)
                }
            }
            Lookup::Absent => Lookup::Absent,
            Lookup::Failed(why) => Lookup::Failed(why),
        }
    }
}

/// An in-memory zone for unit tests: names to TXT, MX and address records;
/// a name listed in `failing` answers SERVFAIL.
#[cfg(test)]
#[derive(Default)]
pub struct FakeDns {
    pub txt: std::collections::HashMap<String, Vec<String>>,
    pub mx: std::collections::HashMap<String, Vec<(u16, String)>>,
    pub addresses: std::collections::HashMap<String, Vec<IpAddr>>,
    pub ptr: std::collections::HashMap<IpAddr, Vec<String>>,
    pub queries: AtomicU64,
}

#[cfg(test)]
impl FakeDns {
    pub fn with_txt(mut self, name: &str, text: &str) -> Self {
        self.txt
            .entry(name.to_owned())
            .or_default()
            .push(text.to_owned());
        self
    }

    pub fn with_address(mut self, name: &str, ip: &str) -> Self {
        let ip = ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}"));
        self.addresses.entry(name.to_owned()).or_default().push(ip);
        self
    }

    pub fn with_mx(mut self, name: &str, preference: u16, host: &str) -> Self {
        self.mx
            .entry(name.to_owned())
            .or_default()
            .push((preference, host.to_owned()));
        self
    }
}

#[cfg(test)]
impl Dns for FakeDns {
    async fn txt(&self, name: &str) -> Lookup<Vec<String>> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.txt
            .get(name)
            .cloned()
            .map_or(Lookup::Absent, Lookup::Found)
    }

    async fn mx(&self, name: &str) -> Lookup<Vec<(u16, String)>> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.mx
            .get(name)
            .cloned()
            .map_or(Lookup::Absent, Lookup::Found)
    }

    async fn addresses(&self, name: &str) -> Lookup<Vec<IpAddr>> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.addresses
            .get(name)
            .cloned()
            .map_or(Lookup::Absent, Lookup::Found)
    }

    async fn ptr(&self, ip: IpAddr) -> Lookup<Vec<String>> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.ptr
            .get(&ip)
            .cloned()
            .map_or(Lookup::Absent, Lookup::Found)
    }
}
