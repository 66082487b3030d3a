-- min_server_version: 22.2
-- The schema a current ClickHouse gets (Debian's 18.16 keeps the one of
-- 0001-0003, whose types it has): IPv6 for addresses (the same 16 bytes in
-- RowBinary as the FixedString(16) before; IPv4 stays stored IPv6-mapped),
-- LowCardinality(String) for the domains, reporters, selectors and other
-- low-cardinality text and their arrays, ZSTD for the large text columns
-- (samples, headers, warnings). Times were DateTime('UTC') already.
--
-- Types of sorting-key columns change, so every table is rebuilt: a new
-- table filled by INSERT SELECT, then renamed over the old one (RENAME, not
-- EXCHANGE: databases created on old servers are Ordinary). The daily
-- tables are copied with their sums; their materialized views are dropped
-- first and created again last. Every step can run again after a cut:
-- leftovers of an earlier attempt are dropped first. Stop the sinks while
-- `dmarcflow migrate` runs this: an insert meanwhile would miss the daily
-- tables.
--
-- The columns of 0007 come first (ADD COLUMN IF NOT EXISTS) and are part of
-- every rebuilt table: on a server upgraded from one older than 22.2, 0007
-- ran before this one, and the copy (SELECT *) needs the same columns on
-- both sides. So do those of 0010 (`source_identified_by`) and 0016
-- (`personal`, `sealed`), last and in that order: ADD COLUMN appends.
DROP VIEW IF EXISTS aggregate_by_source_daily_mv;
DROP VIEW IF EXISTS aggregate_by_result_daily_mv;
DROP VIEW IF EXISTS tlsrpt_success_daily_mv;
DROP VIEW IF EXISTS tlsrpt_failure_daily_mv;

ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_auth String;
ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_dkim String;
ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_dkim_domain String;
ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_spf String;
ALTER TABLE aggregate_reports ADD COLUMN IF NOT EXISTS reporter_authenticated UInt8;
DROP TABLE IF EXISTS aggregate_reports__previous;
DROP TABLE IF EXISTS aggregate_reports__current;
CREATE TABLE aggregate_reports__current
(
    report_id String,
    org_name LowCardinality(String),
    org_email LowCardinality(String),
    extra_contact_info LowCardinality(String),
    reporter_report_id String,
    reporter_report_id_raw String,
    date_begin DateTime('UTC'),
    date_end DateTime('UTC'),
    policy_domain LowCardinality(String),
    version LowCardinality(String),
    namespace LowCardinality(String),
    generator LowCardinality(String),
    adkim Enum8('' = 0, 'r' = 1, 's' = 2, 'other' = 3),
    aspf Enum8('' = 0, 'r' = 1, 's' = 2, 'other' = 3),
    p Enum8('' = 0, 'none' = 1, 'quarantine' = 2, 'reject' = 3, 'other' = 4),
    sp Enum8('' = 0, 'none' = 1, 'quarantine' = 2, 'reject' = 3, 'other' = 4),
    np Enum8('' = 0, 'none' = 1, 'quarantine' = 2, 'reject' = 3, 'other' = 4),
    pct Nullable(UInt8),
    fo LowCardinality(String),
    testing Enum8('' = 0, 'y' = 1, 'n' = 2, 'other' = 3),
    discovery_method Enum8('' = 0, 'psl' = 1, 'treewalk' = 2, 'other' = 3),
    record_count UInt64,
    message_count UInt64,
    errors Array(String) CODEC(ZSTD(3)),
    warnings Array(String) CODEC(ZSTD(3)),
    extensions String CODEC(ZSTD(3)),
    other_values Array(String) CODEC(ZSTD(3)),
    schema_version UInt16,
    origin String,
    ingested_at DateTime('UTC'),
    reporter_auth String,
    reporter_dkim String,
    reporter_dkim_domain String,
    reporter_spf String,
    reporter_authenticated UInt8
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (policy_domain, date_begin, report_id)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO aggregate_reports__current SELECT * FROM aggregate_reports;
RENAME TABLE aggregate_reports TO aggregate_reports__previous, aggregate_reports__current TO aggregate_reports;
DROP TABLE aggregate_reports__previous;

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
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_identified_by String;
DROP TABLE IF EXISTS aggregate_records__previous;
DROP TABLE IF EXISTS aggregate_records__current;
CREATE TABLE aggregate_records__current
(
    report_id String,
    record_index UInt32,
    org_name LowCardinality(String),
    date_begin DateTime('UTC'),
    date_end DateTime('UTC'),
    policy_domain LowCardinality(String),
    source_ip IPv6,
    source_ip_text String,
    message_count UInt64,
    disposition Enum8('' = 0, 'none' = 1, 'pass' = 2, 'quarantine' = 3, 'reject' = 4, 'other' = 5),
    dkim Enum8('' = 0, 'pass' = 1, 'fail' = 2, 'other' = 3),
    spf Enum8('' = 0, 'pass' = 1, 'fail' = 2, 'other' = 3),
    reason_types Array(LowCardinality(String)),
    reason_comments Array(String) CODEC(ZSTD(3)),
    header_from LowCardinality(String),
    envelope_from LowCardinality(String),
    envelope_to LowCardinality(String),
    dkim_domains Array(LowCardinality(String)),
    dkim_selectors Array(LowCardinality(String)),
    dkim_results Array(Enum8('' = 0, 'none' = 1, 'pass' = 2, 'fail' = 3, 'policy' = 4, 'neutral' = 5, 'temperror' = 6, 'permerror' = 7, 'other' = 8)),
    dkim_human_results Array(LowCardinality(String)),
    spf_domains Array(LowCardinality(String)),
    spf_scopes Array(Enum8('' = 0, 'mfrom' = 1, 'helo' = 2, 'other' = 3)),
    spf_results Array(Enum8('' = 0, 'none' = 1, 'neutral' = 2, 'pass' = 3, 'fail' = 4, 'softfail' = 5, 'temperror' = 6, 'permerror' = 7, 'policy' = 8, 'other' = 9)),
    spf_human_results Array(LowCardinality(String)),
    other_values Array(String) CODEC(ZSTD(3)),
    source_ptr String,
    source_ptr_confirmed UInt8,
    source_base_domain String,
    source_name String,
    source_type String,
    source_asn UInt32,
    source_as_name String,
    source_as_domain String,
    source_country String,
    source_lookup_failed UInt8,
    source_identified_by String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (policy_domain, date_begin, source_ip)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO aggregate_records__current SELECT * FROM aggregate_records;
RENAME TABLE aggregate_records TO aggregate_records__previous, aggregate_records__current TO aggregate_records;
DROP TABLE aggregate_records__previous;

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
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_identified_by String;
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS personal String DEFAULT 'clear';
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS sealed String DEFAULT '';
DROP TABLE IF EXISTS failure_reports__previous;
DROP TABLE IF EXISTS failure_reports__current;
CREATE TABLE failure_reports__current
(
    report_id String,
    arrival_date DateTime('UTC'),
    reported_domain LowCardinality(String),
    reported_domains Array(LowCardinality(String)),
    feedback_type Enum8('auth-failure' = 1, 'abuse' = 2, 'fraud' = 3, 'not-spam' = 4, 'virus' = 5, 'opt-out' = 6, 'other' = 7, 'unknown' = 8),
    user_agent LowCardinality(String),
    version LowCardinality(String),
    source_ip IPv6,
    source_ip_text String,
    original_mail_from String,
    original_rcpt_to Array(LowCardinality(String)),
    original_envelope_id String,
    reporting_mta LowCardinality(String),
    incidents UInt64,
    authentication_results Array(String) CODEC(ZSTD(3)),
    auth_failure Array(LowCardinality(String)),
    delivery_result LowCardinality(String),
    dkim_domain LowCardinality(String),
    dkim_selector LowCardinality(String),
    dkim_identity LowCardinality(String),
    spf_dns LowCardinality(String),
    identity_alignment Array(LowCardinality(String)),
    original_from String,
    original_to String,
    original_subject String CODEC(ZSTD(3)),
    original_message_id String,
    report_subject String CODEC(ZSTD(3)),
    sample_kind Enum8('none' = 0, 'message' = 1, 'headers' = 2, 'text' = 3),
    sample String CODEC(ZSTD(3)),
    warnings Array(String) CODEC(ZSTD(3)),
    other_values Array(String) CODEC(ZSTD(3)),
    schema_version UInt16,
    origin String,
    ingested_at DateTime('UTC'),
    source_ptr String,
    source_ptr_confirmed UInt8,
    source_base_domain String,
    source_name String,
    source_type String,
    source_asn UInt32,
    source_as_name String,
    source_as_domain String,
    source_country String,
    source_lookup_failed UInt8,
    reporter_auth String,
    reporter_dkim String,
    reporter_dkim_domain String,
    reporter_spf String,
    reporter_authenticated UInt8,
    source_identified_by String,
    personal String DEFAULT 'clear',
    sealed String DEFAULT ''
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(arrival_date)
ORDER BY (reported_domain, arrival_date, report_id)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO failure_reports__current SELECT * FROM failure_reports;
RENAME TABLE failure_reports TO failure_reports__previous, failure_reports__current TO failure_reports;
DROP TABLE failure_reports__previous;

ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_auth String;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_dkim String;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_dkim_domain String;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_spf String;
ALTER TABLE tlsrpt_reports ADD COLUMN IF NOT EXISTS reporter_authenticated UInt8;
DROP TABLE IF EXISTS tlsrpt_reports__previous;
DROP TABLE IF EXISTS tlsrpt_reports__current;
CREATE TABLE tlsrpt_reports__current
(
    report_id String,
    organization_name LowCardinality(String),
    contact_info LowCardinality(String),
    reporter_report_id String,
    date_begin DateTime('UTC'),
    date_end DateTime('UTC'),
    policy_count UInt32,
    successful_sessions UInt64,
    failed_sessions UInt64,
    warnings Array(String) CODEC(ZSTD(3)),
    schema_version UInt16,
    origin String,
    ingested_at DateTime('UTC'),
    reporter_auth String,
    reporter_dkim String,
    reporter_dkim_domain String,
    reporter_spf String,
    reporter_authenticated UInt8
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (date_begin, organization_name, report_id)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO tlsrpt_reports__current SELECT * FROM tlsrpt_reports;
RENAME TABLE tlsrpt_reports TO tlsrpt_reports__previous, tlsrpt_reports__current TO tlsrpt_reports;
DROP TABLE tlsrpt_reports__previous;

DROP TABLE IF EXISTS tlsrpt_policies__previous;
DROP TABLE IF EXISTS tlsrpt_policies__current;
CREATE TABLE tlsrpt_policies__current
(
    report_id String,
    policy_index UInt32,
    organization_name LowCardinality(String),
    date_begin DateTime('UTC'),
    date_end DateTime('UTC'),
    policy_type Enum8('sts' = 1, 'tlsa' = 2, 'no-policy-found' = 3, 'other' = 4),
    policy_domain LowCardinality(String),
    policy_string Array(String) CODEC(ZSTD(3)),
    mx_host Array(LowCardinality(String)),
    successful_sessions UInt64,
    failed_sessions UInt64,
    other_values Array(String) CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (policy_domain, date_begin, report_id)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO tlsrpt_policies__current SELECT * FROM tlsrpt_policies;
RENAME TABLE tlsrpt_policies TO tlsrpt_policies__previous, tlsrpt_policies__current TO tlsrpt_policies;
DROP TABLE tlsrpt_policies__previous;

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
DROP TABLE IF EXISTS tlsrpt_failures__previous;
DROP TABLE IF EXISTS tlsrpt_failures__current;
CREATE TABLE tlsrpt_failures__current
(
    report_id String,
    policy_index UInt32,
    detail_index UInt32,
    organization_name LowCardinality(String),
    date_begin DateTime('UTC'),
    policy_type Enum8('sts' = 1, 'tlsa' = 2, 'no-policy-found' = 3, 'other' = 4),
    policy_domain LowCardinality(String),
    result_type Enum8('starttls-not-supported' = 1, 'certificate-host-mismatch' = 2, 'certificate-expired' = 3, 'certificate-not-trusted' = 4, 'validation-failure' = 5, 'tlsa-invalid' = 6, 'dnssec-invalid' = 7, 'dane-required' = 8, 'sts-policy-fetch-error' = 9, 'sts-policy-invalid' = 10, 'sts-webpki-invalid' = 11, 'other' = 12),
    result_type_text LowCardinality(String),
    sending_mta_ip IPv6,
    sending_mta_ip_text String,
    receiving_mx_hostname LowCardinality(String),
    receiving_mx_helo LowCardinality(String),
    receiving_ip IPv6,
    receiving_ip_text String,
    failed_sessions UInt64,
    additional_information String CODEC(ZSTD(3)),
    failure_reason_code LowCardinality(String),
    sending_mta_ptr String,
    sending_mta_name String,
    sending_mta_asn UInt32,
    sending_mta_as_name String,
    sending_mta_country String,
    receiving_ptr String,
    receiving_name String,
    receiving_asn UInt32,
    receiving_as_name String,
    receiving_country String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (policy_domain, date_begin, result_type)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO tlsrpt_failures__current SELECT * FROM tlsrpt_failures;
RENAME TABLE tlsrpt_failures TO tlsrpt_failures__previous, tlsrpt_failures__current TO tlsrpt_failures;
DROP TABLE tlsrpt_failures__previous;

DROP TABLE IF EXISTS aggregate_by_source_daily__previous;
DROP TABLE IF EXISTS aggregate_by_source_daily__current;
CREATE TABLE aggregate_by_source_daily__current
(
    day Date,
    policy_domain LowCardinality(String),
    source_ip IPv6,
    header_from LowCardinality(String),
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
ORDER BY (policy_domain, day, source_ip, header_from)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO aggregate_by_source_daily__current SELECT * FROM aggregate_by_source_daily;
RENAME TABLE aggregate_by_source_daily TO aggregate_by_source_daily__previous, aggregate_by_source_daily__current TO aggregate_by_source_daily;
DROP TABLE aggregate_by_source_daily__previous;

DROP TABLE IF EXISTS aggregate_by_result_daily__previous;
DROP TABLE IF EXISTS aggregate_by_result_daily__current;
CREATE TABLE aggregate_by_result_daily__current
(
    day Date,
    policy_domain LowCardinality(String),
    disposition Enum8('' = 0, 'none' = 1, 'pass' = 2, 'quarantine' = 3, 'reject' = 4, 'other' = 5),
    dkim Enum8('' = 0, 'pass' = 1, 'fail' = 2, 'other' = 3),
    spf Enum8('' = 0, 'pass' = 1, 'fail' = 2, 'other' = 3),
    messages UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, disposition, dkim, spf)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO aggregate_by_result_daily__current SELECT * FROM aggregate_by_result_daily;
RENAME TABLE aggregate_by_result_daily TO aggregate_by_result_daily__previous, aggregate_by_result_daily__current TO aggregate_by_result_daily;
DROP TABLE aggregate_by_result_daily__previous;

DROP TABLE IF EXISTS tlsrpt_by_result_daily__previous;
DROP TABLE IF EXISTS tlsrpt_by_result_daily__current;
CREATE TABLE tlsrpt_by_result_daily__current
(
    day Date,
    policy_domain LowCardinality(String),
    policy_type Enum8('sts' = 1, 'tlsa' = 2, 'no-policy-found' = 3, 'other' = 4),
    result_type LowCardinality(String),
    sessions UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (policy_domain, day, policy_type, result_type)
SETTINGS non_replicated_deduplication_window = 1000;
INSERT INTO tlsrpt_by_result_daily__current SELECT * FROM tlsrpt_by_result_daily;
RENAME TABLE tlsrpt_by_result_daily TO tlsrpt_by_result_daily__previous, tlsrpt_by_result_daily__current TO tlsrpt_by_result_daily;
DROP TABLE tlsrpt_by_result_daily__previous;

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
