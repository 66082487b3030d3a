-- min_server_version: 22.2
-- Current ClickHouse can drop a retried insert whose dedup token it has
-- seen (the sink sends insert_deduplication_token on these servers). Older
-- servers skip this migration; there the sink's resume-by-count check is
-- the only guard, which suffices (store/src/clickhouse/dedup.rs).
ALTER TABLE aggregate_reports MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE aggregate_records MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE failure_reports MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE tlsrpt_reports MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE tlsrpt_policies MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE tlsrpt_failures MODIFY SETTING non_replicated_deduplication_window = 1000;
