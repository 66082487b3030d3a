-- The hosted zone's flattened SPF: each domain's ranges whenever a refresh
-- finds them changed (the first too), space-separated, for the alert rule
-- that tells an owner a provider's ranges moved.
CREATE TABLE IF NOT EXISTS flattened_spf
(
    domain String,
    ranges String,
    updated_at UInt64
)
ENGINE = MergeTree
ORDER BY (domain, updated_at);
