-- How a failure report's personal fields are kept ([privacy]
-- failure_reports, dmarcflow_privacy): 'clear' as the reporter sent them
-- (every row from before this migration), 'redacted' (local parts hashed
-- with a keyed hash, subject and body dropped, authentication headers
-- only), 'sealed' (redacted, and the originals in `sealed`: one JSON
-- object encrypted to the owner's age keys, armoured, opened with
-- `age -d -i KEY` or `dmarcflow ruf show`).
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS personal String DEFAULT 'clear';
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS sealed String DEFAULT '';
