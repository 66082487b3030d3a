//! Reverse DNS of a source address, forward-confirmed: the PTR name, and
//! whether that name resolves back to the address (a PTR alone is whatever
//! the address's owner wrote; the forward record is the name owner's word).
//!
//! Lookups go through hickory's resolver to the configured name servers
//! (one forward query, A or AAAA by the address's family), a bound on
//! lookups in flight, and one timeout over the PTR and the forward lookups
//! together. `lookup_until` also says until when the outcome holds (the
//! shortest TTL of its answers; a missing PTR the SOA's negative TTL): the
//! enricher caches whole sources for that long (`source_cache`). A resolver that is slow or gone
//! costs at most that timeout and loses nothing: the answer is empty and
//! `failed` says the lookup did not complete (the report is stored all the
//! same).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::TokioResolver;
use tokio::sync::Semaphore;

/// What reverse DNS says about an address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ptr {
    /// The first PTR name, lower case, without the final dot.
    pub name: Option<String>,
    /// The name resolves (A or AAAA) back to the address.
    pub confirmed: bool,
    /// The lookup did not complete (timeout, no server answering): the
    /// fields are empty for that reason, not because DNS says so.
    pub failed: bool,
}

impl Ptr {
    /// A lookup that did not complete.
    const FAILED: Ptr = Ptr {
        name: None,
        confirmed: false,
        failed: true,
    };
}

/// DNS answered that there is no such record (not a failure).
fn absent(e: &hickory_resolver::net::NetError) -> bool {
    e.is_no_records_found() || e.is_nx_domain()
}

pub struct ReverseDns {
    resolver: TokioResolver,
    timeout: Duration,
    in_flight: Semaphore,
}

/// How long a missing PTR is believed when the answer carries no SOA.
const NEGATIVE_TTL: Duration = Duration::from_secs(300);

/// How reverse DNS is set up.
#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// `ip:port` of each name server, tried in turn.
    pub nameservers: Vec<SocketAddr>,
    /// The whole lookup of one address (PTR and forward).
    pub timeout: Duration,
    /// Lookups in flight at once.
    pub concurrency: usize,
    /// Answers cached.
    pub cache_size: u64,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            nameservers: Vec::new(),
            timeout: Duration::from_secs(2),
            concurrency: 256,
            cache_size: 100_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("no name servers configured")]
    NoNameServers,
    #[error("the resolver: {0}")]
    Resolver(String),
}

impl ReverseDns {
    pub fn new(config: &DnsConfig) -> Result<Self, DnsError> {
        if config.nameservers.is_empty() {
            return Err(DnsError::NoNameServers);
        }
        let servers = config
            .nameservers
            .iter()
            .map(|addr| {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut server.connections {
                    connection.port = addr.port();
                }
                server
            })
            .collect();
        let mut options = ResolverOpts::default();
        // Per server and attempt; the overall bound is `timeout`.
        options.timeout = (config.timeout / 2).max(Duration::from_millis(100));
        options.attempts = 1;
        options.cache_size = config.cache_size;
        options.ndots = 0;
        let resolver = hickory_resolver::Resolver::builder_with_config(
            ResolverConfig::from_parts(None, Vec::new(), servers),
            TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build()
        .map_err(|e| DnsError::Resolver(e.to_string()))?;
        Ok(Self {
            resolver,
            timeout: config.timeout,
            in_flight: Semaphore::new(config.concurrency.max(1)),
        })
    }

    /// The resolver itself (report emails' DKIM keys are looked up through
    /// it too).
    pub fn resolver(&self) -> &TokioResolver {
        &self.resolver
    }

    /// The overall timeout of one lookup.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The PTR name of `ip` and whether it is forward-confirmed.
    pub async fn lookup(&self, ip: IpAddr) -> Ptr {
        self.lookup_until(ip).await.0
    }

    /// The same, and until when it holds (`None`: the lookup did not
    /// complete, not to be kept).
    pub async fn lookup_until(&self, ip: IpAddr) -> (Ptr, Option<Instant>) {
        let Ok(_permit) = self.in_flight.acquire().await else {
            return (Ptr::FAILED, None);
        };
        tokio::time::timeout(self.timeout, self.resolve(ip))
            .await
            .unwrap_or((Ptr::FAILED, None))
    }

    /// The answer, and until when it holds (`None`: not to be kept, the
    /// lookup failed).
    async fn resolve(&self, ip: IpAddr) -> (Ptr, Option<Instant>) {
        let negative = |e: &hickory_resolver::net::NetError| {
            let ttl = match e {
                hickory_resolver::net::NetError::Dns(
                    hickory_resolver::net::DnsError::NoRecordsFound(no),
                ) => no.negative_ttl.map(|t| Duration::from_secs(u64::from(t))),
                _ => None,
            };
            Instant::now() + ttl.unwrap_or(NEGATIVE_TTL)
        };
        let (first, ptr_until) = match self.resolver.lookup(Name::from(ip), RecordType::PTR).await {
            Ok(lookup) => (
                lookup.answers().iter().find_map(|r| match &r.data {
                    RData::PTR(ptr) => Some(ptr.0.to_ascii()),
                    _ => None,
                }),
                lookup.valid_until(),
            ),
            Err(e) if absent(&e) => (None, negative(&e)),
            Err(_) => return (Ptr::FAILED, None),
        };
        let Some(first) = first else {
            return (Ptr::default(), Some(ptr_until));
        };
        let name = first.trim_end_matches('.').to_ascii_lowercase();
        let family = match ip {
            IpAddr::V4(_) => RecordType::A,
            IpAddr::V6(_) => RecordType::AAAA,
        };
        let (confirmed, until) = match self.resolver.lookup(format!("{name}."), family).await {
            Ok(found) => (
                found.answers().iter().any(|r| match &r.data {
                    RData::A(a) => IpAddr::V4(a.0) == ip,
                    RData::AAAA(a) => IpAddr::V6(a.0) == ip,
                    _ => false,
                }),
                found.valid_until().min(ptr_until),
            ),
            Err(e) if absent(&e) => (false, negative(&e).min(ptr_until)),
            Err(_) => {
                let failed = Ptr {
                    name: Some(name),
                    confirmed: false,
                    failed: true,
                };
                return (failed, None);
            }
        };
        let ptr = Ptr {
            name: Some(name),
            confirmed,
            failed: false,
        };
        (ptr, Some(until))
    }
}
