//! The version an upserted row is written with (alert state, domain modes,
//! renewals, SPF history): microseconds since the epoch, so the newest
//! write of a key wins. ClickHouse keeps every version and a reader takes
//! the newest ([`crate::dialect::Backend::newest`]); SQLite replaces the
//! row by its key and keeps the column for the same readers.

/// Now, as a row version: microseconds since the Unix epoch (0 before it).
pub fn version_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
