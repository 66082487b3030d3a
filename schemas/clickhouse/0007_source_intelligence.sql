-- Source intelligence and the reports' own authentication, on every
-- server (18.16 too: plain String and integer types; 0008 gives current
-- servers LowCardinality).
--
-- Each aggregate record and failure report gains its source's enrichment
-- (reverse DNS and its forward confirmation, base domain, sender name and
-- type, ASN, AS name and domain, country; '' and 0 where unknown,
-- source_lookup_failed = 1 where a lookup timed out or failed), each
-- TLS-RPT failure the same for its sending and receiving MTA, and each
-- report the outcome of verifying the email that carried it (reporter_auth:
-- 'aligned', 'unaligned', 'unsigned', 'failed', 'https', or '' when not
-- checked; reporter_dkim the best DKIM result, reporter_dkim_domain its
-- signing domain, reporter_spf the SPF result).
--
-- ADD COLUMN IF NOT EXISTS: servers without that syntax (18.16) get the
-- statement without it after a look at system.columns
-- (store/src/clickhouse/migrate.rs), so a cut migration runs again.

ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_auth String;
ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_dkim String;
ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_dkim_domain String;
ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_spf String;
ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_authenticated UInt8;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_ptr String;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_ptr_confirmed UInt8;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_base_domain String;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_name String;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_type String;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_asn UInt32;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_as_name String;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_as_domain String;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_country String;
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_lookup_failed UInt8;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_ptr String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_ptr_confirmed UInt8;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_base_domain String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_name String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_type String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_asn UInt32;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_as_name String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_as_domain String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_country String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_lookup_failed UInt8;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS reporter_auth String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS reporter_dkim String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS reporter_dkim_domain String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS reporter_spf String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS reporter_authenticated UInt8;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_auth String;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_dkim String;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_dkim_domain String;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_spf String;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_authenticated UInt8;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS sending_mta_ptr String;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS sending_mta_name String;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS sending_mta_asn UInt32;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS sending_mta_as_name String;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS sending_mta_country String;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS receiving_ptr String;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS receiving_name String;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS receiving_asn UInt32;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS receiving_as_name String;
ALTER TABLE tlsrpt_failures ADD COLUMN IF NOT EXISTS receiving_country String;

-- The five views beside per source and per result: per sending host (the
-- base domain of the PTR name), per sender (name and type), per network
-- (ASN), per country, per reporter organisation. Filled like the others:
-- SummingMergeTree, summed again in queries, exact under retries for the
-- same reasons (dedup.rs; 0008 gives them the insert dedup window).

CREATE TABLE IF NOT EXISTS aggregate_by_host_daily
(
    day Date,
    policy_domain String,
    base_domain String,
    messages UInt64,
    dmarc_pass UInt64,
    dmarc_fail UInt64,
    dkim_aligned_pass UInt64,
    spf_aligned_pass UInt64,
    disposition_quarantine UInt64,
    disposition_reject UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, base_domain);

CREATE MATERIALIZED VIEW IF NOT EXISTS aggregate_by_host_daily_mv
TO aggregate_by_host_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    source_base_domain AS base_domain,
    message_count AS messages,
    if(dkim = 'pass' OR spf = 'pass', message_count, 0) AS dmarc_pass,
    if(dkim = 'pass' OR spf = 'pass', 0, message_count) AS dmarc_fail,
    if(dkim = 'pass', message_count, 0) AS dkim_aligned_pass,
    if(spf = 'pass', message_count, 0) AS spf_aligned_pass,
    if(disposition = 'quarantine', message_count, 0) AS disposition_quarantine,
    if(disposition = 'reject', message_count, 0) AS disposition_reject
FROM aggregate_records;

CREATE TABLE IF NOT EXISTS aggregate_by_sender_daily
(
    day Date,
    policy_domain String,
    sender_name String,
    sender_type String,
    messages UInt64,
    dmarc_pass UInt64,
    dmarc_fail UInt64,
    dkim_aligned_pass UInt64,
    spf_aligned_pass UInt64,
    disposition_quarantine UInt64,
    disposition_reject UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, sender_name, sender_type);

CREATE MATERIALIZED VIEW IF NOT EXISTS aggregate_by_sender_daily_mv
TO aggregate_by_sender_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    source_name AS sender_name,
    source_type AS sender_type,
    message_count AS messages,
    if(dkim = 'pass' OR spf = 'pass', message_count, 0) AS dmarc_pass,
    if(dkim = 'pass' OR spf = 'pass', 0, message_count) AS dmarc_fail,
    if(dkim = 'pass', message_count, 0) AS dkim_aligned_pass,
    if(spf = 'pass', message_count, 0) AS spf_aligned_pass,
    if(disposition = 'quarantine', message_count, 0) AS disposition_quarantine,
    if(disposition = 'reject', message_count, 0) AS disposition_reject
FROM aggregate_records;

CREATE TABLE IF NOT EXISTS aggregate_by_network_daily
(
    day Date,
    policy_domain String,
    asn UInt32,
    as_name String,
    messages UInt64,
    dmarc_pass UInt64,
    dmarc_fail UInt64,
    dkim_aligned_pass UInt64,
    spf_aligned_pass UInt64,
    disposition_quarantine UInt64,
    disposition_reject UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, asn, as_name);

CREATE MATERIALIZED VIEW IF NOT EXISTS aggregate_by_network_daily_mv
TO aggregate_by_network_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    source_asn AS asn,
    source_as_name AS as_name,
    message_count AS messages,
    if(dkim = 'pass' OR spf = 'pass', message_count, 0) AS dmarc_pass,
    if(dkim = 'pass' OR spf = 'pass', 0, message_count) AS dmarc_fail,
    if(dkim = 'pass', message_count, 0) AS dkim_aligned_pass,
    if(spf = 'pass', message_count, 0) AS spf_aligned_pass,
    if(disposition = 'quarantine', message_count, 0) AS disposition_quarantine,
    if(disposition = 'reject', message_count, 0) AS disposition_reject
FROM aggregate_records;

CREATE TABLE IF NOT EXISTS aggregate_by_country_daily
(
    day Date,
    policy_domain String,
    country String,
    messages UInt64,
    dmarc_pass UInt64,
    dmarc_fail UInt64,
    dkim_aligned_pass UInt64,
    spf_aligned_pass UInt64,
    disposition_quarantine UInt64,
    disposition_reject UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, country);

CREATE MATERIALIZED VIEW IF NOT EXISTS aggregate_by_country_daily_mv
TO aggregate_by_country_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    source_country AS country,
    message_count AS messages,
    if(dkim = 'pass' OR spf = 'pass', message_count, 0) AS dmarc_pass,
    if(dkim = 'pass' OR spf = 'pass', 0, message_count) AS dmarc_fail,
    if(dkim = 'pass', message_count, 0) AS dkim_aligned_pass,
    if(spf = 'pass', message_count, 0) AS spf_aligned_pass,
    if(disposition = 'quarantine', message_count, 0) AS disposition_quarantine,
    if(disposition = 'reject', message_count, 0) AS disposition_reject
FROM aggregate_records;

CREATE TABLE IF NOT EXISTS aggregate_by_reporter_daily
(
    day Date,
    policy_domain String,
    org_name String,
    messages UInt64,
    dmarc_pass UInt64,
    dmarc_fail UInt64,
    dkim_aligned_pass UInt64,
    spf_aligned_pass UInt64,
    disposition_quarantine UInt64,
    disposition_reject UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, org_name);

CREATE MATERIALIZED VIEW IF NOT EXISTS aggregate_by_reporter_daily_mv
TO aggregate_by_reporter_daily
AS SELECT
    toDate(date_begin) AS day,
    policy_domain,
    org_name,
    message_count AS messages,
    if(dkim = 'pass' OR spf = 'pass', message_count, 0) AS dmarc_pass,
    if(dkim = 'pass' OR spf = 'pass', 0, message_count) AS dmarc_fail,
    if(dkim = 'pass', message_count, 0) AS dkim_aligned_pass,
    if(spf = 'pass', message_count, 0) AS spf_aligned_pass,
    if(disposition = 'quarantine', message_count, 0) AS disposition_quarantine,
    if(disposition = 'reject', message_count, 0) AS disposition_reject
FROM aggregate_records;
