-- min_server_version: 22.2
-- The daily tables need the insert dedup window too: when a block is
-- inserted again with its insert_deduplication_token (a retry whose first
-- attempt was written but not seen by the sink's lookup), the base table
-- drops it, but its materialized views still fire unless their target
-- tables deduplicate the block as well (the sink also sends
-- deduplicate_blocks_in_dependent_materialized_views = 1; ClickHouse
-- issues #34620 and #76110). Without this the daily counts doubled.
ALTER TABLE aggregate_by_source_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE aggregate_by_result_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE tlsrpt_by_result_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
