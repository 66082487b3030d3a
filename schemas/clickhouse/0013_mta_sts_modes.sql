-- Hosted MTA-STS: the mode `dmarcflow mta-sts set` gave each domain, over
-- the configured one. One row per change, the newest winning
-- (ReplacingMergeTree by updated_at; read with argMax per domain).
CREATE TABLE IF NOT EXISTS mta_sts_modes
(
    domain String,
    mode String,
    updated_at UInt64
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY domain;
