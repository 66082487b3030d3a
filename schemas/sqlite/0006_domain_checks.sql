-- Domain posture checks (as ClickHouse's 0012): one row per domain and
-- check; times are Unix seconds.
CREATE TABLE IF NOT EXISTS domain_checks (
    domain TEXT NOT NULL,
    checked_at INTEGER NOT NULL,
    score INTEGER NOT NULL,
    grade TEXT NOT NULL,
    critical INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    dmarc_record TEXT NOT NULL,
    dmarc_policy TEXT NOT NULL,
    spf_record TEXT NOT NULL,
    spf_lookups INTEGER NOT NULL,
    spf_void_lookups INTEGER NOT NULL,
    dkim TEXT NOT NULL,
    mta_sts_record TEXT NOT NULL,
    mta_sts_mode TEXT NOT NULL,
    mta_sts_policy TEXT NOT NULL,
    tlsrpt_record TEXT NOT NULL,
    bimi_record TEXT NOT NULL,
    mx TEXT NOT NULL,
    mx_tls TEXT NOT NULL,
    enforcement TEXT NOT NULL,
    findings TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (domain, checked_at)
) WITHOUT ROWID;
