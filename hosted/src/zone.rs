//! The hosted zone: an authoritative DNS server (hickory-server) for one
//! zone of dmarcflow's (`[dns] zone`), so that a policy change never needs
//! a DNS change by the owner. Owners delegate once, by CNAME:
//! `_mta-sts.example.com CNAME example.com._mta-sts.<zone>` (and
//! `_smtp._tls` likewise); the zone answers those names with the record
//! following the served policy (its `id`).
//!
//! It answers only its zone (REFUSED otherwise, no recursion), over UDP
//! and TCP (hickory truncates a UDP answer over the client's payload size
//! and sets TC); each client address is held to a rate of UDP queries
//! (beyond it, queries go unanswered: no amplification through us), and
//! answers are small (one TXT record).

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Header, HeaderCounts, MessageType, Metadata, OpCode};
use hickory_server::proto::rr::rdata::{NS, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};

/// TTL of the hosted records: a change reaches resolvers within a minute.
const TTL: u32 = 60;

pub struct HostedZone {
    origin: Name,
    handler: Arc<InMemoryZoneHandler<TokioRuntimeProvider>>,
    serial: AtomicU32,
    hostmaster: Name,
    nameserver: Name,
}

fn name(text: &str) -> Result<Name, String> {
    let mut n = Name::from_str(text.trim_end_matches('.')).map_err(|e| format!("{text}: {e}"))?;
    n.set_fqdn(true);
    Ok(n)
}

impl HostedZone {
    /// The zone `zone`, its name server `nameserver` (this service's name).
    pub async fn new(zone: &str, nameserver: &str) -> Result<Self, String> {
        let origin = name(zone)?;
        let this = Self {
            handler: Arc::new(InMemoryZoneHandler::empty(
                origin.clone(),
                ZoneType::Primary,
                AxfrPolicy::Deny,
            )),
            hostmaster: name(&format!("hostmaster.{zone}"))?,
            nameserver: name(nameserver)?,
            origin,
            serial: AtomicU32::new(1),
        };
        this.apex(1).await;
        Ok(this)
    }

    async fn apex(&self, serial: u32) {
        let soa = SOA::new(
            self.nameserver.clone(),
            self.hostmaster.clone(),
            serial,
            3600,
            600,
            86_400,
            TTL,
        );
        self.handler
            .upsert(
                Record::from_rdata(self.origin.clone(), TTL, RData::SOA(soa)),
                serial,
            )
            .await;
        self.handler
            .upsert(
                Record::from_rdata(
                    self.origin.clone(),
                    TTL,
                    RData::NS(NS(self.nameserver.clone())),
                ),
                serial,
            )
            .await;
    }

    /// The zone's TXT records, all at once: (name relative to the zone, text).
    pub async fn replace(&self, txt: &[(String, String)]) -> Result<(), String> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        {
            let mut records = self.handler.records_mut().await;
            records.retain(|key, _| key.record_type != RecordType::TXT);
        }
        for (relative, text) in txt {
            let owner = name(&format!("{relative}.{}", self.origin))?;
            // One character-string holds 255 bytes; a longer record is several
            // (a receiver joins them, RFC 7208 3.3).
            let strings: Vec<String> = text
                .as_bytes()
                .chunks(255)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            let record = Record::from_rdata(owner, TTL, RData::TXT(TXT::new(strings)));
            self.handler.upsert(record, serial).await;
        }
        self.apex(serial).await;
        Ok(())
    }

    /// A catalog of this zone alone.
    fn catalog(&self) -> Catalog {
        let mut catalog = Catalog::new();
        let handler: Arc<dyn ZoneHandler> = self.handler.clone();
        catalog.upsert(LowerName::new(&self.origin), vec![handler]);
        catalog
    }

    /// The request handler serving this zone: the catalog behind a per
    /// address limit of `rate` UDP queries a second (bursts of twice that).
    pub fn handler(&self, rate: f64) -> Limited {
        Limited {
            catalog: self.catalog(),
            rate: rate.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

/// The zone's catalog behind a token bucket per client address (UDP only:
/// a TCP client has shown its address with the handshake).
pub struct Limited {
    catalog: Catalog,
    rate: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// Client addresses tracked at once; past it the table starts over (an
/// attacker spraying addresses gains a fresh burst, never unbounded memory).
const MAX_TRACKED: usize = 65_536;

impl Limited {
    fn allow(&self, ip: IpAddr) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        if buckets.len() >= MAX_TRACKED {
            buckets.clear();
        }
        let now = Instant::now();
        let burst = 2.0 * self.rate;
        let (tokens, at) = buckets.entry(ip).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[async_trait::async_trait]
impl RequestHandler for Limited {
    async fn handle_request<R: ResponseHandler, T: hickory_server::net::runtime::Time>(
        &self,
        request: &Request,
        response: R,
    ) -> ResponseInfo {
        if request.protocol() == Protocol::Udp && !self.allow(request.src().ip()) {
            // Unanswered: the rate is what a resolver never needs.
            let metadata = match request.request_info() {
                Ok(info) => Metadata::new(
                    info.metadata.id,
                    MessageType::Response,
                    info.metadata.op_code,
                ),
                Err(_) => Metadata::new(0, MessageType::Response, OpCode::Query),
            };
            return ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            });
        }
        self.catalog.handle_request::<R, T>(request, response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_then_the_rate() {
        let zone = HostedZone::new("zone.test", "ns.zone.test")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let limited = zone.handler(5.0);
        let ip: IpAddr = "192.0.2.1".parse().unwrap_or_else(|e| panic!("{e}"));
        let allowed = (0..100).filter(|_| limited.allow(ip)).count();
        assert_eq!(
            allowed, 10,
            "a burst of twice the rate, then nothing at once"
        );
        let other: IpAddr = "192.0.2.2".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(limited.allow(other), "another address has its own bucket");
    }
}
