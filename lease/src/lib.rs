//! The lease under which a sink writes what it consumed. Data flows
//! `ingest -> parse -> schemas -> bus -> sink -> store`: the bus's group
//! consumer grants and revokes it (`revoked`, `ask`, `grant`, `revoke`),
//! the store's writers check it before every row they send, and the sink
//! hands one to the other. Its own crate so that the store needs nothing
//! of the bus.
//!
//! A consumer group moves a partition to another member once the owner has
//! been silent for its session timeout (or has not polled for
//! `max.poll.interval.ms`). An owner that was only stalled (a long pause, a
//! frozen process, a store that hung) comes back still holding messages of
//! that partition; had it gone on writing them, the new owner, replaying
//! from the committed offsets, would write the same reports at the same
//! time, and the store's dedup (check, then insert) is not made for two
//! writers at once.
//!
//! So a write runs under a lease: valid for `length` after the group
//! coordinator last confirmed this member (a commit it accepted), revoked at
//! once by a rebalance or a fencing error. The length is well under the
//! session timeout less a heartbeat interval, so by the time the group can
//! hand a partition on, every insert the old owner began under the lease
//! has been sent whole or abandoned; the store checks the lease before every
//! row it sends and before finishing an insert, and drops an insert whose
//! lease ran out (the server discards an unfinished insert).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Lease {
    /// None: a write no group can take away (the in-process bus, tests).
    state: Option<Arc<State>>,
}

#[derive(Debug)]
struct State {
    base: Instant,
    /// Nanoseconds after `base` the lease ends; 0: revoked.
    until: AtomicU64,
    /// Counts revocations: a confirmation asked before one grants nothing.
    epoch: AtomicU64,
}

/// The lease ran out or was revoked: stop writing.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the sink's lease on its partitions ran out (a stall, a rebalance or an unreachable group coordinator)")]
pub struct LeaseLost;

impl Lease {
    /// A lease that never ends.
    pub fn unbounded() -> Self {
        Self { state: None }
    }

    /// A lease not granted yet.
    pub fn revoked() -> Self {
        Self {
            state: Some(Arc::new(State {
                base: Instant::now(),
                until: AtomicU64::new(0),
                epoch: AtomicU64::new(0),
            })),
        }
    }

    /// Ok while the lease holds.
    pub fn check(&self) -> Result<(), LeaseLost> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        let until = state.until.load(Ordering::Acquire);
        let now = state.base.elapsed().as_nanos() as u64;
        if until != 0 && now < until {
            Ok(())
        } else {
            Err(LeaseLost)
        }
    }

    /// When a confirmation is asked: the instant and the revocations so far.
    pub fn ask(&self) -> (Instant, u64) {
        let epoch = self
            .state
            .as_ref()
            .map_or(0, |s| s.epoch.load(Ordering::Acquire));
        (Instant::now(), epoch)
    }

    /// The coordinator confirmed this member in a request `asked` (see
    /// `ask`): the lease runs `length` from when it was sent, unless it was
    /// revoked meanwhile (never shortened by a late reply).
    pub fn grant(&self, (asked, epoch): (Instant, u64), length: Duration) {
        if let Some(state) = &self.state {
            let until = (asked + length)
                .saturating_duration_since(state.base)
                .as_nanos() as u64;
            if until > 0 && state.epoch.load(Ordering::Acquire) == epoch {
                state.until.fetch_max(until, Ordering::AcqRel);
            }
        }
    }

    pub fn revoke(&self) {
        if let Some(state) = &self.state {
            state.epoch.fetch_add(1, Ordering::AcqRel);
            state.until.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_holds_for_its_length_and_not_after_a_revoke() {
        let lease = Lease::revoked();
        assert!(lease.check().is_err());
        lease.grant(lease.ask(), Duration::from_secs(60));
        assert!(lease.check().is_ok());
        let asked = lease.ask();
        lease.revoke();
        assert!(lease.check().is_err());
        lease.grant(asked, Duration::from_secs(60));
        assert!(
            lease.check().is_err(),
            "confirmed by a request asked before the revoke"
        );
        let (now, epoch) = lease.ask();
        lease.grant(
            (now - Duration::from_secs(2), epoch),
            Duration::from_secs(1),
        );
        assert!(
            lease.check().is_err(),
            "granted from a request two seconds old"
        );
        assert!(Lease::unbounded().check().is_ok());
    }
}
