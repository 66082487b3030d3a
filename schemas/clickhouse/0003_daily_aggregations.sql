-- Daily aggregations, filled by materialized views as rows are inserted.
-- SummingMergeTree adds rows with the same key when parts merge, so a
-- query must still sum(): `SELECT day, sum(messages) ... GROUP BY day`.
-- A report is counted once because the sink never inserts a stored report
-- again (see store/src/clickhouse/dedup.rs). The day is the report's begin
-- date (reports cover one day, UTC, in practice).

CREATE TABLE IF NOT EXISTS aggregate_by_source_daily
(
    day Date,
    policy_domain String,
    source_ip FixedString(16),
    header_from String,
    messages UInt64,
    dmarc_pass UInt64,
    dmarc_fail UInt64,
    dkim_aligned_pass UInt64,
    spf_aligned_pass UInt64,
    disposition_none UInt64,
    disposition_quarantine UInt64,
    disposition_reject UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, source_ip, header_from);

CREATE MATERIALIZED VIEW IF NOT EXISTS aggregate_by_source_daily_mv
TO aggregate_by_source_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    source_ip,
    header_from,
    message_count AS messages,
    if(dkim = 'pass' OR spf = 'pass', message_count, 0) AS dmarc_pass,
    if(dkim = 'pass' OR spf = 'pass', 0, message_count) AS dmarc_fail,
    if(dkim = 'pass', message_count, 0) AS dkim_aligned_pass,
    if(spf = 'pass', message_count, 0) AS spf_aligned_pass,
    if(disposition IN ('none', 'pass', ''), message_count, 0) AS disposition_none,
    if(disposition = 'quarantine', message_count, 0) AS disposition_quarantine,
    if(disposition = 'reject', message_count, 0) AS disposition_reject
FROM aggregate_records;

CREATE TABLE IF NOT EXISTS aggregate_by_result_daily
(
    day Date,
    policy_domain String,
    disposition Enum8('' = 0, 'none' = 1, 'pass' = 2, 'quarantine' = 3, 'reject' = 4, 'other' = 5),
    dkim Enum8('' = 0, 'pass' = 1, 'fail' = 2, 'other' = 3),
    spf Enum8('' = 0, 'pass' = 1, 'fail' = 2, 'other' = 3),
    messages UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, disposition, dkim, spf);

CREATE MATERIALIZED VIEW IF NOT EXISTS aggregate_by_result_daily_mv
TO aggregate_by_result_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    disposition,
    dkim,
    spf,
    message_count AS messages
FROM aggregate_records;

-- Sessions by result: 'success' from each policy's successful count, the
-- failure result types from the failure details.
CREATE TABLE IF NOT EXISTS tlsrpt_by_result_daily
(
    day Date,
    policy_domain String,
    policy_type Enum8('sts' = 1, 'tlsa' = 2, 'no-policy-found' = 3, 'other' = 4),
    result_type String,
    sessions UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, policy_type, result_type);

CREATE MATERIALIZED VIEW IF NOT EXISTS tlsrpt_success_daily_mv
TO tlsrpt_by_result_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    policy_type,
    'success' AS result_type,
    successful_sessions AS sessions
FROM tlsrpt_policies;

CREATE MATERIALIZED VIEW IF NOT EXISTS tlsrpt_failure_daily_mv
TO tlsrpt_by_result_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    policy_type,
    if(result_type = 'other', result_type_text, toString(result_type)) AS result_type,
    failed_sessions AS sessions
FROM tlsrpt_failures;
