-- min_server_version: 22.2
-- 0007 on a current server: LowCardinality for the enrichment's and the
-- reporter's low-cardinality text (key columns of the daily tables too: a
-- current server changes String to LowCardinality(String) in place), the
-- insert dedup window on the five daily tables (see 0005), and their
-- materialized views created again: on a server upgraded from one older
-- than 22.2, 0006 rebuilt aggregate_records after 0007 had attached them.
-- Stop the sinks while `dmarcflow migrate` runs this.

ALTER TABLE aggregate_reports MODIFY COLUMN reporter_auth LowCardinality(String);
ALTER TABLE aggregate_reports MODIFY COLUMN reporter_dkim LowCardinality(String);
ALTER TABLE aggregate_reports MODIFY COLUMN reporter_dkim_domain LowCardinality(String);
ALTER TABLE aggregate_reports MODIFY COLUMN reporter_spf LowCardinality(String);
ALTER TABLE aggregate_records MODIFY COLUMN source_base_domain LowCardinality(String);
ALTER TABLE aggregate_records MODIFY COLUMN source_name LowCardinality(String);
ALTER TABLE aggregate_records MODIFY COLUMN source_type LowCardinality(String);
ALTER TABLE aggregate_records MODIFY COLUMN source_as_name LowCardinality(String);
ALTER TABLE aggregate_records MODIFY COLUMN source_as_domain LowCardinality(String);
ALTER TABLE aggregate_records MODIFY COLUMN source_country LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN source_base_domain LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN source_name LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN source_type LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN source_as_name LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN source_as_domain LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN source_country LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN reporter_auth LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN reporter_dkim LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN reporter_dkim_domain LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN reporter_spf LowCardinality(String);
ALTER TABLE tlsrpt_reports MODIFY COLUMN reporter_auth LowCardinality(String);
ALTER TABLE tlsrpt_reports MODIFY COLUMN reporter_dkim LowCardinality(String);
ALTER TABLE tlsrpt_reports MODIFY COLUMN reporter_dkim_domain LowCardinality(String);
ALTER TABLE tlsrpt_reports MODIFY COLUMN reporter_spf LowCardinality(String);
ALTER TABLE tlsrpt_failures MODIFY COLUMN sending_mta_name LowCardinality(String);
ALTER TABLE tlsrpt_failures MODIFY COLUMN sending_mta_as_name LowCardinality(String);
ALTER TABLE tlsrpt_failures MODIFY COLUMN sending_mta_country LowCardinality(String);
ALTER TABLE tlsrpt_failures MODIFY COLUMN receiving_name LowCardinality(String);
ALTER TABLE tlsrpt_failures MODIFY COLUMN receiving_as_name LowCardinality(String);
ALTER TABLE tlsrpt_failures MODIFY COLUMN receiving_country LowCardinality(String);

ALTER TABLE aggregate_by_host_daily MODIFY COLUMN base_domain LowCardinality(String);
ALTER TABLE aggregate_by_host_daily MODIFY COLUMN policy_domain LowCardinality(String);
ALTER TABLE aggregate_by_host_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE aggregate_by_sender_daily MODIFY COLUMN sender_name LowCardinality(String);
ALTER TABLE aggregate_by_sender_daily MODIFY COLUMN sender_type LowCardinality(String);
ALTER TABLE aggregate_by_sender_daily MODIFY COLUMN policy_domain LowCardinality(String);
ALTER TABLE aggregate_by_sender_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE aggregate_by_network_daily MODIFY COLUMN as_name LowCardinality(String);
ALTER TABLE aggregate_by_network_daily MODIFY COLUMN policy_domain LowCardinality(String);
ALTER TABLE aggregate_by_network_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE aggregate_by_country_daily MODIFY COLUMN country LowCardinality(String);
ALTER TABLE aggregate_by_country_daily MODIFY COLUMN policy_domain LowCardinality(String);
ALTER TABLE aggregate_by_country_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE aggregate_by_reporter_daily MODIFY COLUMN org_name LowCardinality(String);
ALTER TABLE aggregate_by_reporter_daily MODIFY COLUMN policy_domain LowCardinality(String);
ALTER TABLE aggregate_by_reporter_daily MODIFY SETTING non_replicated_deduplication_window = 1000;

DROP VIEW IF EXISTS aggregate_by_host_daily_mv;
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

DROP VIEW IF EXISTS aggregate_by_sender_daily_mv;
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

DROP VIEW IF EXISTS aggregate_by_network_daily_mv;
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

DROP VIEW IF EXISTS aggregate_by_country_daily_mv;
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

DROP VIEW IF EXISTS aggregate_by_reporter_daily_mv;
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
