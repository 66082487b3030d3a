//! The memory budget the network sources (SMTP/LMTP, HTTPS, IMAP) share:
//! the bytes of every message in flight, raw and decompressed, are reserved
//! before they are held and given back once the message is answered; and
//! every open connection holds a fixed reservation for its buffers (see
//! [`crate::Limits::reserve_bytes`]), so a flood of idle connections is
//! refused before it can push the process past the budget. When
//! the budget is spent a listener refuses for now (SMTP 451, HTTPS 503 with
//! Retry-After) and the IMAP source waits; the sender keeps the message.
//!
//! A message reserves its raw size plus three times its decompression
//! allowance ([`MemoryBudget::working`]): the allowance is what the parser
//! may inflate in memory for it ([`MemoryBudget::allowance`]); the factor
//! covers the slack of buffers growing to hold it and the records parsed
//! from it. No message reserves more than the whole budget: a large one
//! gets a smaller allowance, so more of it is streamed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget is kept in units of this many bytes (a semaphore's permits
/// are counted in `u32` per acquisition).
const UNIT: u64 = 1024;
/// What a message may decompress in memory is this many times its size...
const EXPANSION: u64 = 16;
/// ...at least this much (a small report never needs more)...
const MIN_ALLOWANCE: u64 = 1 << 20;
/// A message's working memory is this many times its allowance.
const WORKING_FACTOR: u64 = 3;
/// The default budget.
pub const DEFAULT_BUDGET: u64 = 512 << 20;

/// The share of a [`MemoryBudget::split`] budget kept for open
/// connections' buffers (the default caps are sized to fit in it).
pub const CONNECTION_SHARE: u64 = 4;

/// Bytes in flight across all network sources. Cloning shares it.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    permits: Arc<Semaphore>,
    /// All of it, in units.
    units: u32,
    /// The `pool` label of its gauges.
    pool: &'static str,
    /// A pool of its own for open connections' reservations, apart from
    /// the messages' (None: they share this one).
    connections: Option<Arc<MemoryBudget>>,
}

impl Default for MemoryBudget {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

impl MemoryBudget {
    /// A budget of `bytes` (at least one unit; at most 4 TiB), connections
    /// and messages drawing on the same pool.
    pub fn new(bytes: u64) -> Self {
        Self::pool(bytes, "messages")
    }

    fn pool(bytes: u64, pool: &'static str) -> Self {
        let units = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .max(1);
        let budget = Self {
            permits: Arc::new(Semaphore::new(units as usize)),
            units,
            pool,
            connections: None,
        };
        budget.report();
        budget
    }

    /// A budget of `bytes` whose open connections hold their reservations
    /// in a quarter of it kept apart, the messages drawing on the rest.
    ///
    /// Apart, because a message's working room may be nearly all of its
    /// pool (a large report's decompression allowance is cut to fit): in
    /// one shared pool, connections that stay open would keep that room
    /// from ever being free, and such a message would be refused for ever.
    pub fn split(bytes: u64) -> Self {
        let connections = bytes / CONNECTION_SHARE;
        let mut messages = Self::pool(bytes - connections, "messages");
        messages.connections = Some(Arc::new(Self::pool(connections, "connections")));
        messages
    }

    /// Where open connections reserve their buffers.
    pub fn for_connections(&self) -> MemoryBudget {
        match &self.connections {
            Some(pool) => MemoryBudget::clone(pool),
            None => self.clone(),
        }
    }

    /// The whole budget in bytes.
    pub fn bytes(&self) -> u64 {
        u64::from(self.units) * UNIT
    }

    /// Bytes not reserved now.
    pub fn available(&self) -> u64 {
        self.permits.available_permits() as u64 * UNIT
    }

    /// The decompressed bytes one message of `raw` bytes may hold in
    /// memory: 16 times its size, at least 1 MiB, at most `max_in_memory`
    /// (the parser's own per-input bound), and no more than keeps its
    /// working memory within the whole budget. A report that needs more is
    /// streamed, not refused.
    pub fn allowance(&self, raw: u64, max_in_memory: u64) -> u64 {
        raw.saturating_mul(EXPANSION)
            .max(MIN_ALLOWANCE)
            .min(max_in_memory)
            .min(self.bytes().saturating_sub(raw) / WORKING_FACTOR)
    }

    /// What is reserved for a message of `raw` bytes before it is parsed:
    /// its raw size and what parsing it may take.
    pub fn working(&self, raw: u64, max_in_memory: u64) -> u64 {
        raw.saturating_add(
            self.allowance(raw, max_in_memory)
                .saturating_mul(WORKING_FACTOR),
        )
    }

    /// An empty reservation, grown as a message arrives.
    pub fn empty(&self) -> Reservation {
        Reservation {
            budget: self.clone(),
            permit: None,
            units: 0,
        }
    }

    /// Reserves `bytes`, waiting as long as it takes (the IMAP source: its
    /// messages wait on the server). More than the whole budget is clamped
    /// to it, so one large message still goes through alone.
    pub async fn reserve(&self, bytes: u64) -> Reservation {
        let mut reservation = self.empty();
        // The semaphore is never closed, so this cannot fail.
        let _ = reservation.grow(bytes, None).await;
        reservation
    }

    fn report(&self) {
        metrics::gauge!("dmarcflow_memory_budget_bytes", "pool" => self.pool)
            .set(self.bytes() as f64);
        metrics::gauge!("dmarcflow_memory_budget_available_bytes", "pool" => self.pool)
            .set(self.available() as f64);
    }
}

/// Bytes held for one message (or one IMAP batch); given back on drop.
#[derive(Debug)]
pub struct Reservation {
    budget: MemoryBudget,
    permit: Option<OwnedSemaphorePermit>,
    units: u32,
}

impl Reservation {
    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        u64::from(self.units) * UNIT
    }

    /// Holds `bytes` more, waiting at most `wait` (None: as long as it
    /// takes) for them to be given back by others. False when they were
    /// not; the reservation is then unchanged. A reservation never grows
    /// past the whole budget: beyond it, growing succeeds once the message
    /// holds all of it.
    pub async fn grow(&mut self, bytes: u64, wait: Option<Duration>) -> bool {
        let wanted = u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX);
        let units = wanted.min(self.budget.units - self.units);
        if units == 0 {
            return true;
        }
        let acquiring = self.budget.permits.clone().acquire_many_owned(units);
        let acquired = match wait {
            None => acquiring.await.ok(),
            Some(wait) => match self.budget.permits.clone().try_acquire_many_owned(units) {
                Ok(permit) => Some(permit),
                Err(_) => tokio::time::timeout(wait, acquiring)
                    .await
                    .ok()
                    .and_then(Result::ok),
            },
        };
        let Some(permit) = acquired else {
            metrics::counter!("dmarcflow_memory_budget_refusals_total", "pool" => self.budget.pool)
                .increment(1);
            return false;
        };
        self.merge(permit, units);
        true
    }

    /// Holds `bytes` more if they are free now, without waiting (a
    /// connection's reservation at accept: the accept loop never waits).
    pub fn try_grow(&mut self, bytes: u64) -> bool {
        let wanted = u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX);
        let units = wanted.min(self.budget.units - self.units);
        if units == 0 {
            return true;
        }
        let Ok(permit) = self.budget.permits.clone().try_acquire_many_owned(units) else {
            metrics::counter!("dmarcflow_memory_budget_refusals_total", "pool" => self.budget.pool)
                .increment(1);
            return false;
        };
        self.merge(permit, units);
        true
    }

    fn merge(&mut self, permit: OwnedSemaphorePermit, units: u32) {
        match &mut self.permit {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
        self.units += units;
        self.budget.report();
    }

    /// Gives everything back (also what dropping it does).
    pub fn release(&mut self) {
        self.permit = None;
        self.units = 0;
        self.budget.report();
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.permit.take().is_some() {
            self.budget.report();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowance_scales_with_the_message_within_bounds() {
        let budget = MemoryBudget::new(1 << 30);
        assert_eq!(budget.allowance(1000, 64 << 20), 1 << 20);
        assert_eq!(budget.allowance(1 << 20, 64 << 20), 16 << 20);
        assert_eq!(budget.allowance(10 << 20, 64 << 20), 64 << 20);
        assert_eq!(budget.working(1 << 20, 64 << 20), (1 << 20) + (48 << 20));
        // A small budget: the allowance shrinks so one message fits in it.
        let small = MemoryBudget::new(64 << 20);
        assert_eq!(small.allowance(4 << 20, 64 << 20), 20 << 20);
        assert_eq!(small.working(4 << 20, 64 << 20), 64 << 20);
        assert_eq!(small.allowance(80 << 20, 64 << 20), 0);
    }

    #[tokio::test]
    async fn reservations_share_the_budget_and_give_it_back() {
        let budget = MemoryBudget::new(10 << 20);
        let mut a = budget.empty();
        assert!(a.grow(6 << 20, Some(Duration::ZERO)).await);
        let mut b = budget.empty();
        assert!(!b.grow(6 << 20, Some(Duration::from_millis(10))).await);
        assert_eq!(b.bytes(), 0);
        assert!(b.grow(4 << 20, Some(Duration::ZERO)).await);
        assert_eq!(budget.available(), 0);
        drop(a);
        assert_eq!(budget.available(), 6 << 20);
        // Waiting: granted once the other gives its share back.
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(8 << 20).await.bytes() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        b.release();
        assert_eq!(waiter.await.ok(), Some(8 << 20));
        assert_eq!(budget.available(), 10 << 20);
    }

    #[test]
    fn a_split_budget_keeps_connections_apart() {
        let budget = MemoryBudget::split(8 << 20);
        assert_eq!(budget.bytes(), 6 << 20);
        let connections = budget.for_connections();
        assert_eq!(connections.bytes(), 2 << 20);
        let mut held = connections.empty();
        assert!(held.try_grow(2 << 20));
        // The messages' pool is whole: a message may take all of it.
        let mut message = budget.empty();
        assert!(message.try_grow(6 << 20));
        assert!(!connections.empty().try_grow(1));
        // Unsplit, they share.
        let shared = MemoryBudget::new(1 << 20);
        let mut conn = shared.for_connections().empty();
        assert!(conn.try_grow(1 << 20));
        assert_eq!(shared.available(), 0);
    }

    #[test]
    fn trying_never_waits() {
        let budget = MemoryBudget::new(1 << 20);
        let mut a = budget.empty();
        assert!(a.try_grow(768 << 10));
        let mut b = budget.empty();
        assert!(!b.try_grow(512 << 10));
        assert!(b.try_grow(256 << 10));
        assert_eq!(budget.available(), 0);
        drop(a);
        assert_eq!(budget.available(), 768 << 10);
    }

    #[tokio::test]
    async fn more_than_the_budget_is_clamped_to_all_of_it() {
        let budget = MemoryBudget::new(4 << 20);
        let all = budget.reserve(1 << 40).await;
        assert_eq!(all.bytes(), 4 << 20);
        let mut more = budget.empty();
        assert!(!more.grow(1, Some(Duration::ZERO)).await);
    }
}
