-- Which signal named a source's sender, beside its name and type
-- (`source_identified_by`): `ptr`, `dkim`, `envelope`, `asn`, `as_domain`
-- or `as_name`; '' where no sender was named (or the row predates this).
ALTER TABLE aggregate_records ADD COLUMN IF NOT EXISTS source_identified_by String DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN IF NOT EXISTS source_identified_by String DEFAULT '';
