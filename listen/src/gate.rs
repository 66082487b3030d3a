//! Admission: a connection is served only within its listener's caps and
//! with its buffers' reservation held from the memory budget. Counting and
//! reserving happen on the accept loop without waiting; the [`Admission`]
//! gives both back when the connection's task drops it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::budget::{MemoryBudget, Reservation};
use crate::Limits;

/// Why a connection was refused: the `reason` label of
/// `dmarcflow_listener_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener holds `max_connections` already.
    MaxConnections,
    /// The client's address (IPv6: its /64) holds `max_connections_per_ip`.
    MaxConnectionsPerIp,
    /// The memory budget has no room for one more connection's buffers.
    Memory,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::MaxConnections => "max_connections",
            Refusal::MaxConnectionsPerIp => "max_connections_per_ip",
            Refusal::Memory => "memory",
        }
    }
}

/// Whom a per-address cap counts: an IPv4 address, or an IPv6 /64 (what
/// one site is usually given; an address per connection is free within it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Client(u128);

impl Client {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Client(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client(u128::from(u32::from(v4))),
                None => Client((u128::from(v6) >> 64 << 64) | 1 << 32),
            },
        }
    }
}

/// One listener's caps and the connections it holds.
#[derive(Debug)]
pub struct Gate {
    listener: &'static str,
    limits: Limits,
    budget: MemoryBudget,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<Client, usize>,
}

impl Gate {
    pub fn new(listener: &'static str, limits: Limits, budget: MemoryBudget) -> Arc<Self> {
        Arc::new(Self {
            listener,
            limits,
            budget,
            open: Mutex::new(Open::default()),
        })
    }

    pub fn listener(&self) -> &'static str {
        self.listener
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a connection from `ip`, or says why not. Never waits: the
    /// caps are checked and the buffers reserved (a semaphore's try, no
    /// wait) under one lock.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admission, Refusal> {
        let client = Client::of(ip);
        let mut open = self.lock();
        if open.total >= self.limits.max_connections {
            return Err(Refusal::MaxConnections);
        }
        let count = open.by_client.get(&client).copied().unwrap_or(0);
        if count >= self.limits.max_connections_per_ip {
            return Err(Refusal::MaxConnectionsPerIp);
        }
        let mut reservation = self.budget.empty();
        if !reservation.try_grow(self.limits.reserve_bytes) {
            return Err(Refusal::Memory);
        }
        open.by_client.insert(client, count + 1);
        open.total += 1;
        let total = open.total;
        drop(open);
        self.report(total);
        Ok(Admission {
            gate: self.clone(),
            client,
            _reservation: reservation,
        })
    }

    fn report(&self, total: usize) {
        metrics::gauge!("dmarcflow_listener_connections", "listener" => self.listener)
            .set(total as f64);
    }
}

/// A connection's place within the caps and its buffers' reservation,
/// both given back on drop.
#[derive(Debug)]
pub struct Admission {
    gate: Arc<Gate>,
    client: Client,
    _reservation: Reservation,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let total = {
            let mut open = self.gate.lock();
            open.total = open.total.saturating_sub(1);
            if let Some(count) = open.by_client.get_mut(&self.client) {
                *count -= 1;
                if *count == 0 {
                    open.by_client.remove(&self.client);
                }
            }
            open.total
        };
        self.gate.report(total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, per_ip: usize, reserve: u64) -> Limits {
        Limits {
            max_connections: max,
            max_connections_per_ip: per_ip,
            reserve_bytes: reserve,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn caps_per_address_then_in_all() {
        let gate = Gate::new("test", limits(3, 2, 1024), MemoryBudget::new(1 << 20));
        let a1 = gate.admit(ip("192.0.2.1"));
        let a2 = gate.admit(ip("192.0.2.1"));
        assert!(a1.is_ok() && a2.is_ok());
        assert_eq!(
            gate.admit(ip("192.0.2.1")).err(),
            Some(Refusal::MaxConnectionsPerIp)
        );
        let b = gate.admit(ip("192.0.2.2"));
        assert!(b.is_ok());
        assert_eq!(
            gate.admit(ip("192.0.2.3")).err(),
            Some(Refusal::MaxConnections)
        );
        drop(a1);
        assert_eq!(gate.open(), 2);
        assert!(gate.admit(ip("192.0.2.1")).is_ok());
        assert!(gate.lock().by_client.len() <= 2);
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client_and_mapped_ipv4_is_ipv4() {
        let gate = Gate::new("test", limits(10, 1, 0), MemoryBudget::new(1 << 20));
        let _a = gate.admit(ip("2001:db8:1:2::1"));
        assert_eq!(
            gate.admit(ip("2001:db8:1:2:ffff::9")).err(),
            Some(Refusal::MaxConnectionsPerIp)
        );
        assert!(gate.admit(ip("2001:db8:1:3::1")).is_ok());
        let _v4 = gate.admit(ip("192.0.2.7"));
        assert_eq!(
            gate.admit(ip("::ffff:192.0.2.7")).err(),
            Some(Refusal::MaxConnectionsPerIp)
        );
    }

    #[test]
    fn each_connection_holds_its_reservation() {
        let budget = MemoryBudget::new(256 << 10);
        let gate = Gate::new("test", limits(100, 100, 64 << 10), budget.clone());
        let held: Vec<_> = (0..4)
            .map(|i| gate.admit(ip(&format!("192.0.2.{i}"))))
            .collect();
        assert!(held.iter().all(Result::is_ok));
        assert_eq!(budget.available(), 0);
        assert_eq!(gate.admit(ip("192.0.2.9")).err(), Some(Refusal::Memory));
        assert_eq!(gate.open(), 4);
        drop(held);
        assert_eq!(budget.available(), 256 << 10);
        assert_eq!(gate.open(), 0);
    }
}
