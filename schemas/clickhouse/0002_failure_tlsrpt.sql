-- DMARC failure reports (ARF) and SMTP TLS reports.

-- One row per failure report, ordered by (reported_domain, arrival_date):
-- "failures for my domain lately". arrival_date is the ARF Arrival-Date,
-- else the report's Date, else the ingest time.
CREATE TABLE IF NOT EXISTS failure_reports
(
    report_id String,
    arrival_date DateTime('UTC'),
    reported_domain String,
    reported_domains Array(String),
    feedback_type Enum8('auth-failure' = 1, 'abuse' = 2, 'fraud' = 3, 'not-spam' = 4, 'virus' = 5, 'opt-out' = 6, 'other' = 7, 'unknown' = 8),
    user_agent String,
    version String,
    source_ip FixedString(16),
    source_ip_text String,
    original_mail_from String,
    original_rcpt_to Array(String),
    original_envelope_id String,
    reporting_mta String,
    incidents UInt64,
    authentication_results Array(String),
    auth_failure Array(String),
    delivery_result String,
    dkim_domain String,
    dkim_selector String,
    dkim_identity String,
    spf_dns String,
    identity_alignment Array(String),
    original_from String,
    original_to String,
    original_subject String,
    original_message_id String,
    report_subject String,
    sample_kind Enum8('none' = 0, 'message' = 1, 'headers' = 2, 'text' = 3),
    sample String,
    warnings Array(String),
    other_values Array(String),
    schema_version UInt16,
    origin String,
    ingested_at DateTime('UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(arrival_date)
ORDER BY (reported_domain, arrival_date, report_id);

-- One row per TLS report, ordered by time and reporter.
CREATE TABLE IF NOT EXISTS tlsrpt_reports
(
    report_id String,
    organization_name String,
    contact_info String,
    reporter_report_id String,
    date_begin DateTime('UTC'),
    date_end DateTime('UTC'),
    policy_count UInt32,
    successful_sessions UInt64,
    failed_sessions UInt64,
    warnings Array(String),
    schema_version UInt16,
    origin String,
    ingested_at DateTime('UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (date_begin, organization_name, report_id);

-- One row per policy of a TLS report; "my domain over time".
CREATE TABLE IF NOT EXISTS tlsrpt_policies
(
    report_id String,
    policy_index UInt32,
    organization_name String,
    date_begin DateTime('UTC'),
    date_end DateTime('UTC'),
    policy_type Enum8('sts' = 1, 'tlsa' = 2, 'no-policy-found' = 3, 'other' = 4),
    policy_domain String,
    policy_string Array(String),
    mx_host Array(String),
    successful_sessions UInt64,
    failed_sessions UInt64,
    other_values Array(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (policy_domain, date_begin, report_id);

-- One row per failure detail; "what fails for my domain over time".
CREATE TABLE IF NOT EXISTS tlsrpt_failures
(
    report_id String,
    policy_index UInt32,
    detail_index UInt32,
    organization_name String,
    date_begin DateTime('UTC'),
    policy_type Enum8('sts' = 1, 'tlsa' = 2, 'no-policy-found' = 3, 'other' = 4),
    policy_domain String,
    result_type Enum8('starttls-not-supported' = 1, 'certificate-host-mismatch' = 2, 'certificate-expired' = 3, 'certificate-not-trusted' = 4, 'validation-failure' = 5, 'tlsa-invalid' = 6, 'dnssec-invalid' = 7, 'dane-required' = 8, 'sts-policy-fetch-error' = 9, 'sts-policy-invalid' = 10, 'sts-webpki-invalid' = 11, 'other' = 12),
    result_type_text String,
    sending_mta_ip FixedString(16),
    sending_mta_ip_text String,
    receiving_mx_hostname String,
    receiving_mx_helo String,
    receiving_ip FixedString(16),
    receiving_ip_text String,
    failed_sessions UInt64,
    additional_information String,
    failure_reason_code String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date_begin)
ORDER BY (policy_domain, date_begin, result_type);
