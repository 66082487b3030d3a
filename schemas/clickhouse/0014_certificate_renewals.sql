-- Hosted MTA-STS certificates from ACME: each name's latest round (the end
-- of the certificate served, and why the last needed order failed, empty
-- when it did not). One row per round, the newest winning
-- (ReplacingMergeTree by updated_at; read with argMax per name).
CREATE TABLE IF NOT EXISTS certificate_renewals
(
    name String,
    not_after DateTime('UTC'),
    error String,
    updated_at UInt64
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY name;
