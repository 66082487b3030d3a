-- Which signal named a source's sender (as ClickHouse's 0010).
ALTER TABLE aggregate_records ADD COLUMN source_identified_by TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN source_identified_by TEXT NOT NULL DEFAULT '';
