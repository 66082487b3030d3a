-- One row per report and one row per record, DMARC aggregate.
--
-- Types run on ClickHouse 18.16 and on current releases: IPs are
-- FixedString(16) (IPv4 stored IPv6-mapped, read with IPv6NumToString),
-- times are DateTime('UTC') so a day is a UTC day whatever the server's
-- time zone,
-- enumerations are Enum8 with '' for "absent" and 'other' for a value the
-- sender made up (kept verbatim in other_values as "field=value").
--
-- Both tables are partitioned by month of the report's begin date: the
-- analysts' queries are always bounded in time, and old months can be
-- dropped whole.

-- Ordered by (policy_domain, date_begin): "reports for my domain over time"
-- reads a contiguous range; report_id closes the key so the sink's
-- "is this report stored?" lookups are cheap within a domain.
CREATE TABLE IF NOT EXISTS aggregate_reports
(
    report_id String,
    org_name String,
    org_email String,
    extra_contact_info String,
    reporter_report_id String,
    reporter_report_id_raw String,
    date_begin DateTime('UTC'),
    date_end DateTime('UTC'),
    policy_domain String,
    version String,
    namespace String,
    generator String,
    adkim Enum8('' = 0, 'r' = 1, 's' = 2, 'other' = 3),
    aspf Enum8('' = 0, 'r' = 1, 's' = 2, 'other' = 3),
    p Enum8('' = 0, 'none' = 1, 'quarantine' = 2, 'reject' = 3, 'other' = 4),
    sp Enum8('' = 0, 'none' = 1, 'quarantine' = 2, 'reject' = 3, 'other' = 4),
    np Enum8('' = 0, 'none' = 1, 'quarantine' = 2, 'reject' = 3, 'other' = 4),
    pct Nullable(UInt8),
    fo String,
    testing Enum8('' = 0, 'y' = 1, 'n' = 2, 'other' = 3),
    discovery_method Enum8('' = 0, 'psl' = 1, 'treewalk' = 2, 'other' = 3),
    record_count UInt64,
    message_count UInt64,
    errors Array(String),
    warnings Array(String),
    extensions String,
    other_values Array(String),
    schema_version UInt16,
    origin String,
    ingested_at DateTime('UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (policy_domain, date_begin, report_id);

-- The report's key fields are repeated on every record (date range, policy
-- domain, reporter) so the common queries need no join. Ordered by
-- (policy_domain, date_begin, source_ip): "my domain over time" and "this
-- source for my domain over time" both read contiguous ranges; "this source
-- across all domains" is served by aggregate_by_source_daily, which is
-- orders of magnitude smaller. record_index (the record's position in its
-- report) makes a record's identity (report_id, record_index): the sink
-- resumes a partly written report from it.
CREATE TABLE IF NOT EXISTS aggregate_records
(
    report_id String,
    record_index UInt32,
    org_name String,
    date_begin DateTime('UTC'),
    date_end DateTime('UTC'),
    policy_domain String,
    source_ip FixedString(16),
    source_ip_text String,
    message_count UInt64,
    disposition Enum8('' = 0, 'none' = 1, 'pass' = 2, 'quarantine' = 3, 'reject' = 4, 'other' = 5),
    dkim Enum8('' = 0, 'pass' = 1, 'fail' = 2, 'other' = 3),
    spf Enum8('' = 0, 'pass' = 1, 'fail' = 2, 'other' = 3),
    reason_types Array(String),
    reason_comments Array(String),
    header_from String,
    envelope_from String,
    envelope_to String,
    dkim_domains Array(String),
    dkim_selectors Array(String),
    dkim_results Array(Enum8('' = 0, 'none' = 1, 'pass' = 2, 'fail' = 3, 'policy' = 4, 'neutral' = 5, 'temperror' = 6, 'permerror' = 7, 'other' = 8)),
    dkim_human_results Array(String),
    spf_domains Array(String),
    spf_scopes Array(Enum8('' = 0, 'mfrom' = 1, 'helo' = 2, 'other' = 3)),
    spf_results Array(Enum8('' = 0, 'none' = 1, 'neutral' = 2, 'pass' = 3, 'fail' = 4, 'softfail' = 5, 'temperror' = 6, 'permerror' = 7, 'policy' = 8, 'other' = 9)),
    spf_human_results Array(String),
    other_values Array(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (policy_domain, date_begin, source_ip);
