//! What the enricher found per address, kept until its DNS answers expire
//! (their shortest TTL; without reverse DNS, for as long as the process
//! runs: the MMDB files and the maps do not change under it). An address
//! seen again costs a map lookup and a copy, which is what keeps a warm
//! `run` near its speed without enrichment. Lookups that did not complete
//! are not kept. Bounded: a full cache drops what expired, else starts
//! over.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use dmarcflow_schemas::Source;

pub struct SourceCache {
    entries: Mutex<HashMap<IpAddr, (Source, Option<Instant>)>>,
    capacity: usize,
}

impl Default for SourceCache {
    fn default() -> Self {
        Self::new(200_000)
    }
}

impl SourceCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    pub fn get(&self, ip: IpAddr) -> Option<Source> {
        let entries = self.entries.lock().ok()?;
        let (source, until) = entries.get(&ip)?;
        until
            .is_none_or(|u| Instant::now() < u)
            .then(|| source.clone())
    }

    /// Keeps `source` until `until` (`None`: for good).
    pub fn put(&self, ip: IpAddr, source: &Source, until: Option<Instant>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity {
            let now = Instant::now();
            entries.retain(|_, (_, u)| u.is_none_or(|u| u > now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(ip, (source.clone(), until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn kept_until_expiry_and_bounded() {
        let cache = SourceCache::new(2);
        let ip = |n: u8| IpAddr::from([192, 0, 2, n]);
        let source = |n: u8| Source {
            ip: ip(n).to_string(),
            ..Source::default()
        };
        cache.put(ip(1), &source(1), None);
        cache.put(
            ip(2),
            &source(2),
            Some(Instant::now() - Duration::from_secs(1)),
        );
        assert_eq!(cache.get(ip(1)).map(|s| s.ip), Some("192.0.2.1".into()));
        assert_eq!(cache.get(ip(2)), None, "expired");
        // Full: the expired entry goes, the live one stays.
        cache.put(ip(3), &source(3), None);
        assert!(cache.get(ip(1)).is_some() && cache.get(ip(3)).is_some());
    }
}
