-- Domain posture checks (`dmarcflow check --save`, and the `[posture]`
-- schedule of `run` and `sink`): one row per domain and check, with the
-- score, the text of every record as published and what each MX host
-- showed, so history is plain SQL (score per domain over time in Grafana)
-- and the alert rules compare a check with the one before it.
-- Multi-valued columns are lines of tab-separated fields (`dkim`:
-- selector, source, state, record; `mx`: preference, host; `mx_tls`: host,
-- starttls yes/no/unreached, certificate valid or its problem, not-after
-- Unix seconds or 0), `findings` a JSON array of {code, severity,
-- message, fix}, `document` the whole check as `check --json` prints it.
CREATE TABLE IF NOT EXISTS domain_checks
(
    domain String,
    checked_at DateTime('UTC'),
    score UInt8,
    grade String,
    critical UInt16,
    warnings UInt16,
    dmarc_record String,
    dmarc_policy String,
    spf_record String,
    spf_lookups UInt16,
    spf_void_lookups UInt16,
    dkim String,
    mta_sts_record String,
    mta_sts_mode String,
    mta_sts_policy String,
    tlsrpt_record String,
    bimi_record String,
    mx String,
    mx_tls String,
    enforcement String,
    findings String,
    document String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(checked_at)
ORDER BY (domain, checked_at);
