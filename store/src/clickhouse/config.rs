//! Where the ClickHouse sink connects and how it retries (batching is
//! the writer's, `[batch]`).

use std::time::Duration;

use crate::Secret;

#[derive(Debug, Clone)]
pub struct ClickHouseConfig {
    /// HTTP interface, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    /// Created by `dmarcflow migrate` if missing.
    pub database: String,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub retry: RetryPolicy,
    /// Keep this many days (a TTL on every table); None keeps everything.
    pub retention_days: Option<u32>,
    /// Run on this cluster (`remote_servers`): replicated tables, inserts
    /// and queries through distributed ones (`cluster.rs`).
    pub cluster: Option<String>,
}

impl ClickHouseConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            database: "dmarcflow".to_owned(),
            user: None,
            password: None,
            retry: RetryPolicy::default(),
            retention_days: None,
            cluster: None,
        }
    }
}

/// Exponential backoff with a cap; only transient errors are retried
/// (`StoreError::is_transient`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 10,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `n` (1-based; the first has none).
    pub fn backoff(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl(attempt - 2).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        let waits: Vec<u128> = (1..=5).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, [0, 100, 200, 350, 350]);
        assert_eq!(p.backoff(80), Duration::from_millis(350));
    }
}
