-- How a failure report's personal fields are kept, and the sealed
-- originals (as ClickHouse's 0016).
ALTER TABLE failure_reports ADD COLUMN personal TEXT NOT NULL DEFAULT 'clear';
ALTER TABLE failure_reports ADD COLUMN sealed TEXT NOT NULL DEFAULT '';
