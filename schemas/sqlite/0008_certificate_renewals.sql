-- Hosted MTA-STS certificates from ACME (as ClickHouse's 0014): one row
-- per name, replaced each round.
CREATE TABLE IF NOT EXISTS certificate_renewals (
    name TEXT PRIMARY KEY,
    not_after INTEGER NOT NULL,
    error TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
