//! How many connections a listener holds, and what each one reserves.
//!
//! Two resources bound a listener: open files (every connection is a file
//! descriptor) and memory (every connection holds buffers: a read buffer,
//! TLS records in and out, the protocol's own line or header buffer). The
//! defaults split both between the listeners of the process:
//! - files: the soft open-file limit less [`RESERVED_FILES`] for the rest
//!   of the process (Kafka's sockets, the store, DNS, logs, the metrics
//!   endpoint), shared equally by the listeners, each less
//!   [`crate::refusal::SLOTS`] for the refusals it may have in flight;
//! - memory: the pool open connections reserve from (the connections'
//!   quarter of a [`crate::MemoryBudget::split`] budget, the messages in
//!   flight having the rest), each connection holding its listener's
//!   `reserve_bytes`;
//!
//! and neither above [`DEFAULT_MAX_CONNECTIONS`]. An operator sets
//! `max_connections` to choose otherwise; the gate still refuses a
//! connection the budget has no room for.

/// Files kept for everything but the listeners' connections.
pub const RESERVED_FILES: u64 = 256;
/// The most connections a listener holds by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1000;
/// The fewest a default leaves a listener (an open-file limit too low for
/// even this is the operator's to raise; the accept loop survives it).
const MIN_CONNECTIONS: usize = 8;
/// Connections one client address (IPv6: one /64) may hold at once:
/// Postfix's default `smtpd_client_connection_count_limit`. A large
/// provider sends from many addresses, a few connections each.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one address (IPv6: one /64).
    pub max_connections_per_ip: usize,
    /// Bytes of the memory budget each open connection holds: the
    /// largest its buffers grow to while idle or reading a request head.
    pub reserve_bytes: u64,
}

impl Limits {
    /// The caps before they are sized (`DEFAULT_MAX_CONNECTIONS`, and
    /// `DEFAULT_MAX_CONNECTIONS_PER_IP` per address) for connections that
    /// each reserve `reserve_bytes`.
    pub fn defaults(reserve_bytes: u64) -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            reserve_bytes,
        }
    }

    /// The defaults for one of `listeners` listeners whose connections
    /// each reserve `reserve_bytes`, under an open-file limit of
    /// `open_files`, from a pool of `connection_bytes`
    /// ([`crate::MemoryBudget::for_connections`]).
    pub fn sized(
        open_files: u64,
        connection_bytes: u64,
        listeners: usize,
        reserve_bytes: u64,
    ) -> Self {
        let listeners = listeners.max(1) as u64;
        let by_files = (open_files.saturating_sub(RESERVED_FILES) / listeners)
            .saturating_sub(crate::refusal::SLOTS as u64);
        let by_memory = connection_bytes / listeners / reserve_bytes.max(1);
        let max = usize::try_from(by_files.min(by_memory))
            .unwrap_or(usize::MAX)
            .clamp(MIN_CONNECTIONS, DEFAULT_MAX_CONNECTIONS);
        Self {
            max_connections: max,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP.min(max),
            reserve_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_files_and_memory() {
        // A raised limit and the connections' quarter of the default
        // budget: memory decides.
        let l = Limits::sized(1 << 20, 128 << 20, 2, 128 << 10);
        assert_eq!(l.max_connections, 512);
        assert_eq!(l.max_connections_per_ip, 50);
        // One listener, more memory: the ceiling.
        assert_eq!(
            Limits::sized(1 << 20, 1 << 30, 1, 64 << 10).max_connections,
            1000
        );
        // 512 files, two listeners: (512 - 256) / 2 - 32 = 96.
        assert_eq!(
            Limits::sized(512, 128 << 20, 2, 64 << 10).max_connections,
            96
        );
        // Too few files for anything: the floor, per address capped by it.
        let l = Limits::sized(100, 128 << 20, 2, 64 << 10);
        assert_eq!((l.max_connections, l.max_connections_per_ip), (8, 8));
    }
}
