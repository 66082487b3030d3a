-- The state of `dmarcflow alerts` (as ClickHouse's 0009): one row per
-- condition (rule, domain, subject), replaced on each change.
CREATE TABLE IF NOT EXISTS alert_state (
    key TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    domain TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    since INTEGER NOT NULL,
    notified_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
