-- min_server_version: 22.2
-- 0010 on a current server: LowCardinality, like the other enrichment text.
ALTER TABLE aggregate_records MODIFY COLUMN source_identified_by LowCardinality(String);
ALTER TABLE failure_reports MODIFY COLUMN source_identified_by LowCardinality(String);
