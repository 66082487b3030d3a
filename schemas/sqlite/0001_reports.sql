-- The embedded store: the same logical tables as ClickHouse
-- (schemas/clickhouse/), in SQLite. IPs are canonical text, enumerations
-- are their text ('' when absent, the sender's verbatim value when
-- unknown), arrays are JSON arrays. Times are Unix seconds (UTC).
-- Duplicates are impossible by key: a report's rows go in with its
-- header in one transaction, and the unique keys below make a replay a no-op.

CREATE TABLE IF NOT EXISTS aggregate_reports (
    report_id TEXT PRIMARY KEY,
    org_name TEXT NOT NULL,
    org_email TEXT NOT NULL,
    extra_contact_info TEXT NOT NULL,
    reporter_report_id TEXT NOT NULL,
    reporter_report_id_raw TEXT NOT NULL,
    date_begin INTEGER NOT NULL,
    date_end INTEGER NOT NULL,
    policy_domain TEXT NOT NULL,
    version TEXT NOT NULL,
    namespace TEXT NOT NULL,
    generator TEXT NOT NULL,
    adkim TEXT NOT NULL,
    aspf TEXT NOT NULL,
    p TEXT NOT NULL,
    sp TEXT NOT NULL,
    np TEXT NOT NULL,
    pct INTEGER,
    fo TEXT NOT NULL,
    testing TEXT NOT NULL,
    discovery_method TEXT NOT NULL,
    record_count INTEGER NOT NULL,
    message_count INTEGER NOT NULL,
    errors TEXT NOT NULL,
    warnings TEXT NOT NULL,
    extensions TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    origin TEXT NOT NULL,
    ingested_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS aggregate_reports_domain ON aggregate_reports (policy_domain, date_begin);

CREATE TABLE IF NOT EXISTS aggregate_records (
    report_id TEXT NOT NULL,
    record_index INTEGER NOT NULL,
    org_name TEXT NOT NULL,
    date_begin INTEGER NOT NULL,
    date_end INTEGER NOT NULL,
    policy_domain TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    message_count INTEGER NOT NULL,
    disposition TEXT NOT NULL,
    dkim TEXT NOT NULL,
    spf TEXT NOT NULL,
    reason_types TEXT NOT NULL,
    reason_comments TEXT NOT NULL,
    header_from TEXT NOT NULL,
    envelope_from TEXT NOT NULL,
    envelope_to TEXT NOT NULL,
    dkim_domains TEXT NOT NULL,
    dkim_selectors TEXT NOT NULL,
    dkim_results TEXT NOT NULL,
    dkim_human_results TEXT NOT NULL,
    spf_domains TEXT NOT NULL,
    spf_scopes TEXT NOT NULL,
    spf_results TEXT NOT NULL,
    spf_human_results TEXT NOT NULL,
    PRIMARY KEY (report_id, record_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aggregate_records_domain ON aggregate_records (policy_domain, date_begin, source_ip);

CREATE TABLE IF NOT EXISTS failure_reports (
    report_id TEXT PRIMARY KEY,
    arrival_date INTEGER NOT NULL,
    reported_domain TEXT NOT NULL,
    reported_domains TEXT NOT NULL,
    feedback_type TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    version TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    original_mail_from TEXT NOT NULL,
    original_rcpt_to TEXT NOT NULL,
    original_envelope_id TEXT NOT NULL,
    reporting_mta TEXT NOT NULL,
    incidents INTEGER NOT NULL,
    authentication_results TEXT NOT NULL,
    auth_failure TEXT NOT NULL,
    delivery_result TEXT NOT NULL,
    dkim_domain TEXT NOT NULL,
    dkim_selector TEXT NOT NULL,
    dkim_identity TEXT NOT NULL,
    spf_dns TEXT NOT NULL,
    identity_alignment TEXT NOT NULL,
    original_from TEXT NOT NULL,
    original_to TEXT NOT NULL,
    original_subject TEXT NOT NULL,
    original_message_id TEXT NOT NULL,
    report_subject TEXT NOT NULL,
    sample_kind TEXT NOT NULL,
    sample TEXT NOT NULL,
    warnings TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    origin TEXT NOT NULL,
    ingested_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS failure_reports_domain ON failure_reports (reported_domain, arrival_date);

CREATE TABLE IF NOT EXISTS tlsrpt_reports (
    report_id TEXT PRIMARY KEY,
    organization_name TEXT NOT NULL,
    contact_info TEXT NOT NULL,
    reporter_report_id TEXT NOT NULL,
    date_begin INTEGER NOT NULL,
    date_end INTEGER NOT NULL,
    policy_count INTEGER NOT NULL,
    successful_sessions INTEGER NOT NULL,
    failed_sessions INTEGER NOT NULL,
    warnings TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    origin TEXT NOT NULL,
    ingested_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS tlsrpt_policies (
    report_id TEXT NOT NULL,
    policy_index INTEGER NOT NULL,
    organization_name TEXT NOT NULL,
    date_begin INTEGER NOT NULL,
    date_end INTEGER NOT NULL,
    policy_type TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    policy_string TEXT NOT NULL,
    mx_host TEXT NOT NULL,
    successful_sessions INTEGER NOT NULL,
    failed_sessions INTEGER NOT NULL,
    PRIMARY KEY (report_id, policy_index)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS tlsrpt_failures (
    report_id TEXT NOT NULL,
    policy_index INTEGER NOT NULL,
    detail_index INTEGER NOT NULL,
    organization_name TEXT NOT NULL,
    date_begin INTEGER NOT NULL,
    policy_type TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    result_type TEXT NOT NULL,
    sending_mta_ip TEXT NOT NULL,
    receiving_mx_hostname TEXT NOT NULL,
    receiving_mx_helo TEXT NOT NULL,
    receiving_ip TEXT NOT NULL,
    failed_sessions INTEGER NOT NULL,
    additional_information TEXT NOT NULL,
    failure_reason_code TEXT NOT NULL,
    PRIMARY KEY (report_id, policy_index, detail_index)
) WITHOUT ROWID;
