-- The hosted zone's flattened SPF (as ClickHouse's 0015): a row per
-- domain and change.
CREATE TABLE IF NOT EXISTS flattened_spf (
    domain TEXT NOT NULL,
    ranges TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (domain, updated_at)
) WITHOUT ROWID;
