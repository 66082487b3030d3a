-- The three daily aggregations, kept by triggers (SQLite's materialized
-- views). A trigger fires only for a row actually inserted, and the sink
-- inserts with OR IGNORE on unique keys, so a replayed report adds nothing.
-- day is the report's begin date as 'YYYY-MM-DD' (UTC).

CREATE TABLE IF NOT EXISTS aggregate_by_source_daily (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    header_from TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    dmarc_pass INTEGER NOT NULL DEFAULT 0,
    dmarc_fail INTEGER NOT NULL DEFAULT 0,
    dkim_aligned_pass INTEGER NOT NULL DEFAULT 0,
    spf_aligned_pass INTEGER NOT NULL DEFAULT 0,
    disposition_none INTEGER NOT NULL DEFAULT 0,
    disposition_quarantine INTEGER NOT NULL DEFAULT 0,
    disposition_reject INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (policy_domain, day, source_ip, header_from)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS aggregate_by_result_daily (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    disposition TEXT NOT NULL,
    dkim TEXT NOT NULL,
    spf TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (policy_domain, day, disposition, dkim, spf)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS tlsrpt_by_result_daily (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    policy_type TEXT NOT NULL,
    result_type TEXT NOT NULL,
    sessions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (policy_domain, day, policy_type, result_type)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS aggregate_records_by_source AFTER INSERT ON aggregate_records
BEGIN
    INSERT INTO aggregate_by_source_daily (day, policy_domain, source_ip, header_from, messages,
        dmarc_pass, dmarc_fail, dkim_aligned_pass, spf_aligned_pass,
        disposition_none, disposition_quarantine, disposition_reject)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.source_ip, NEW.header_from,
        NEW.message_count,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN 0 ELSE NEW.message_count END,
        CASE WHEN NEW.dkim = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition IN ('none', 'pass', '') THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'quarantine' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'reject' THEN NEW.message_count ELSE 0 END)
    ON CONFLICT (policy_domain, day, source_ip, header_from) DO UPDATE SET
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dmarc_fail = dmarc_fail + excluded.dmarc_fail,
        dkim_aligned_pass = dkim_aligned_pass + excluded.dkim_aligned_pass,
        spf_aligned_pass = spf_aligned_pass + excluded.spf_aligned_pass,
        disposition_none = disposition_none + excluded.disposition_none,
        disposition_quarantine = disposition_quarantine + excluded.disposition_quarantine,
        disposition_reject = disposition_reject + excluded.disposition_reject;
END;

CREATE TRIGGER IF NOT EXISTS aggregate_records_by_result AFTER INSERT ON aggregate_records
BEGIN
    INSERT INTO aggregate_by_result_daily (day, policy_domain, disposition, dkim, spf, messages)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.disposition, NEW.dkim, NEW.spf,
        NEW.message_count)
    ON CONFLICT (policy_domain, day, disposition, dkim, spf) DO UPDATE SET
        messages = messages + excluded.messages;
END;

CREATE TRIGGER IF NOT EXISTS tlsrpt_policies_success AFTER INSERT ON tlsrpt_policies
BEGIN
    INSERT INTO tlsrpt_by_result_daily (day, policy_domain, policy_type, result_type, sessions)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.policy_type, 'success',
        NEW.successful_sessions)
    ON CONFLICT (policy_domain, day, policy_type, result_type) DO UPDATE SET
        sessions = sessions + excluded.sessions;
END;

CREATE TRIGGER IF NOT EXISTS tlsrpt_failures_by_result AFTER INSERT ON tlsrpt_failures
BEGIN
    INSERT INTO tlsrpt_by_result_daily (day, policy_domain, policy_type, result_type, sessions)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.policy_type, NEW.result_type,
        NEW.failed_sessions)
    ON CONFLICT (policy_domain, day, policy_type, result_type) DO UPDATE SET
        sessions = sessions + excluded.sessions;
END;
