-- The state of `dmarcflow alerts`: one row per condition (rule, domain,
-- subject) and change, the newest winning (ReplacingMergeTree by
-- updated_at; read with argMax per key, which is exact before merges too).
-- A condition fires once, resolves when it clears, and is quiet for the
-- quiet period after it was last notified.
CREATE TABLE IF NOT EXISTS alert_state
(
    key String,
    rule String,
    domain String,
    subject String,
    status String,
    message String,
    since DateTime('UTC'),
    notified_at DateTime('UTC'),
    updated_at UInt64
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY key;
