-- Hosted MTA-STS modes (as ClickHouse's 0013): one row per domain,
-- replaced on each change.
CREATE TABLE IF NOT EXISTS mta_sts_modes (
    domain TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
