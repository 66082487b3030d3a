-- Source intelligence and the reports' own authentication (as ClickHouse's
-- 0007): the enrichment of each record's and failure report's source and of
-- each TLS-RPT failure's sending and receiving MTA, the outcome of
-- verifying the email that carried each report, and the five daily views
-- beside per source and per result, kept by triggers like the others.

ALTER TABLE aggregate_reports ADD COLUMN reporter_auth TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_reports ADD COLUMN reporter_dkim TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_reports ADD COLUMN reporter_dkim_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_reports ADD COLUMN reporter_spf TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_reports ADD COLUMN reporter_authenticated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE aggregate_records ADD COLUMN source_ptr TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_records ADD COLUMN source_ptr_confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE aggregate_records ADD COLUMN source_base_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_records ADD COLUMN source_name TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_records ADD COLUMN source_type TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_records ADD COLUMN source_asn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE aggregate_records ADD COLUMN source_as_name TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_records ADD COLUMN source_as_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_records ADD COLUMN source_country TEXT NOT NULL DEFAULT '';
ALTER TABLE aggregate_records ADD COLUMN source_lookup_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failure_reports ADD COLUMN source_ptr TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN source_ptr_confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failure_reports ADD COLUMN source_base_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN source_name TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN source_type TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN source_asn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failure_reports ADD COLUMN source_as_name TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN source_as_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN source_country TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN source_lookup_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE failure_reports ADD COLUMN reporter_auth TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN reporter_dkim TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN reporter_dkim_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN reporter_spf TEXT NOT NULL DEFAULT '';
ALTER TABLE failure_reports ADD COLUMN reporter_authenticated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tlsrpt_reports ADD COLUMN reporter_auth TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_reports ADD COLUMN reporter_dkim TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_reports ADD COLUMN reporter_dkim_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_reports ADD COLUMN reporter_spf TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_reports ADD COLUMN reporter_authenticated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tlsrpt_failures ADD COLUMN sending_mta_ptr TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_failures ADD COLUMN sending_mta_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_failures ADD COLUMN sending_mta_asn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tlsrpt_failures ADD COLUMN sending_mta_as_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_failures ADD COLUMN sending_mta_country TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_failures ADD COLUMN receiving_ptr TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_failures ADD COLUMN receiving_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_failures ADD COLUMN receiving_asn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tlsrpt_failures ADD COLUMN receiving_as_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tlsrpt_failures ADD COLUMN receiving_country TEXT NOT NULL DEFAULT '';

CREATE TABLE IF NOT EXISTS aggregate_by_host_daily (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    base_domain TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    dmarc_pass INTEGER NOT NULL DEFAULT 0,
    dmarc_fail INTEGER NOT NULL DEFAULT 0,
    dkim_aligned_pass INTEGER NOT NULL DEFAULT 0,
    spf_aligned_pass INTEGER NOT NULL DEFAULT 0,
    disposition_quarantine INTEGER NOT NULL DEFAULT 0,
    disposition_reject INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (policy_domain, day, base_domain)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS aggregate_records_by_host AFTER INSERT ON aggregate_records
BEGIN
    INSERT INTO aggregate_by_host_daily (day, policy_domain, base_domain, messages, dmarc_pass, dmarc_fail, dkim_aligned_pass, spf_aligned_pass, disposition_quarantine, disposition_reject)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.source_base_domain,
        NEW.message_count,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN 0 ELSE NEW.message_count END,
        CASE WHEN NEW.dkim = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'quarantine' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'reject' THEN NEW.message_count ELSE 0 END)
    ON CONFLICT (policy_domain, day, base_domain) DO UPDATE SET
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dmarc_fail = dmarc_fail + excluded.dmarc_fail,
        dkim_aligned_pass = dkim_aligned_pass + excluded.dkim_aligned_pass,
        spf_aligned_pass = spf_aligned_pass + excluded.spf_aligned_pass,
        disposition_quarantine = disposition_quarantine + excluded.disposition_quarantine,
        disposition_reject = disposition_reject + excluded.disposition_reject;
END;

CREATE TABLE IF NOT EXISTS aggregate_by_sender_daily (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    sender_type TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    dmarc_pass INTEGER NOT NULL DEFAULT 0,
    dmarc_fail INTEGER NOT NULL DEFAULT 0,
    dkim_aligned_pass INTEGER NOT NULL DEFAULT 0,
    spf_aligned_pass INTEGER NOT NULL DEFAULT 0,
    disposition_quarantine INTEGER NOT NULL DEFAULT 0,
    disposition_reject INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (policy_domain, day, sender_name, sender_type)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS aggregate_records_by_sender AFTER INSERT ON aggregate_records
BEGIN
    INSERT INTO aggregate_by_sender_daily (day, policy_domain, sender_name, sender_type, messages, dmarc_pass, dmarc_fail, dkim_aligned_pass, spf_aligned_pass, disposition_quarantine, disposition_reject)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.source_name, NEW.source_type,
        NEW.message_count,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN 0 ELSE NEW.message_count END,
        CASE WHEN NEW.dkim = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'quarantine' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'reject' THEN NEW.message_count ELSE 0 END)
    ON CONFLICT (policy_domain, day, sender_name, sender_type) DO UPDATE SET
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dmarc_fail = dmarc_fail + excluded.dmarc_fail,
        dkim_aligned_pass = dkim_aligned_pass + excluded.dkim_aligned_pass,
        spf_aligned_pass = spf_aligned_pass + excluded.spf_aligned_pass,
        disposition_quarantine = disposition_quarantine + excluded.disposition_quarantine,
        disposition_reject = disposition_reject + excluded.disposition_reject;
END;

CREATE TABLE IF NOT EXISTS aggregate_by_network_daily (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    asn INTEGER NOT NULL,
    as_name TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    dmarc_pass INTEGER NOT NULL DEFAULT 0,
    dmarc_fail INTEGER NOT NULL DEFAULT 0,
    dkim_aligned_pass INTEGER NOT NULL DEFAULT 0,
    spf_aligned_pass INTEGER NOT NULL DEFAULT 0,
    disposition_quarantine INTEGER NOT NULL DEFAULT 0,
    disposition_reject INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (policy_domain, day, asn, as_name)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS aggregate_records_by_network AFTER INSERT ON aggregate_records
BEGIN
    INSERT INTO aggregate_by_network_daily (day, policy_domain, asn, as_name, messages, dmarc_pass, dmarc_fail, dkim_aligned_pass, spf_aligned_pass, disposition_quarantine, disposition_reject)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.source_asn, NEW.source_as_name,
        NEW.message_count,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN 0 ELSE NEW.message_count END,
        CASE WHEN NEW.dkim = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'quarantine' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'reject' THEN NEW.message_count ELSE 0 END)
    ON CONFLICT (policy_domain, day, asn, as_name) DO UPDATE SET
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dmarc_fail = dmarc_fail + excluded.dmarc_fail,
        dkim_aligned_pass = dkim_aligned_pass + excluded.dkim_aligned_pass,
        spf_aligned_pass = spf_aligned_pass + excluded.spf_aligned_pass,
        disposition_quarantine = disposition_quarantine + excluded.disposition_quarantine,
        disposition_reject = disposition_reject + excluded.disposition_reject;
END;

CREATE TABLE IF NOT EXISTS aggregate_by_country_daily (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    country TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    dmarc_pass INTEGER NOT NULL DEFAULT 0,
    dmarc_fail INTEGER NOT NULL DEFAULT 0,
    dkim_aligned_pass INTEGER NOT NULL DEFAULT 0,
    spf_aligned_pass INTEGER NOT NULL DEFAULT 0,
    disposition_quarantine INTEGER NOT NULL DEFAULT 0,
    disposition_reject INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (policy_domain, day, country)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS aggregate_records_by_country AFTER INSERT ON aggregate_records
BEGIN
    INSERT INTO aggregate_by_country_daily (day, policy_domain, country, messages, dmarc_pass, dmarc_fail, dkim_aligned_pass, spf_aligned_pass, disposition_quarantine, disposition_reject)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.source_country,
        NEW.message_count,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN 0 ELSE NEW.message_count END,
        CASE WHEN NEW.dkim = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'quarantine' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'reject' THEN NEW.message_count ELSE 0 END)
    ON CONFLICT (policy_domain, day, country) DO UPDATE SET
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dmarc_fail = dmarc_fail + excluded.dmarc_fail,
        dkim_aligned_pass = dkim_aligned_pass + excluded.dkim_aligned_pass,
        spf_aligned_pass = spf_aligned_pass + excluded.spf_aligned_pass,
        disposition_quarantine = disposition_quarantine + excluded.disposition_quarantine,
        disposition_reject = disposition_reject + excluded.disposition_reject;
END;

CREATE TABLE IF NOT EXISTS aggregate_by_reporter_daily (
    day TEXT NOT NULL,
    policy_domain TEXT NOT NULL,
    org_name TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    dmarc_pass INTEGER NOT NULL DEFAULT 0,
    dmarc_fail INTEGER NOT NULL DEFAULT 0,
    dkim_aligned_pass INTEGER NOT NULL DEFAULT 0,
    spf_aligned_pass INTEGER NOT NULL DEFAULT 0,
    disposition_quarantine INTEGER NOT NULL DEFAULT 0,
    disposition_reject INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (policy_domain, day, org_name)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS aggregate_records_by_reporter AFTER INSERT ON aggregate_records
BEGIN
    INSERT INTO aggregate_by_reporter_daily (day, policy_domain, org_name, messages, dmarc_pass, dmarc_fail, dkim_aligned_pass, spf_aligned_pass, disposition_quarantine, disposition_reject)
    VALUES (date(NEW.date_begin, 'unixepoch'), NEW.policy_domain, NEW.org_name,
        NEW.message_count,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.dkim = 'pass' OR NEW.spf = 'pass' THEN 0 ELSE NEW.message_count END,
        CASE WHEN NEW.dkim = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.spf = 'pass' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'quarantine' THEN NEW.message_count ELSE 0 END,
        CASE WHEN NEW.disposition = 'reject' THEN NEW.message_count ELSE 0 END)
    ON CONFLICT (policy_domain, day, org_name) DO UPDATE SET
        messages = messages + excluded.messages,
        dmarc_pass = dmarc_pass + excluded.dmarc_pass,
        dmarc_fail = dmarc_fail + excluded.dmarc_fail,
        dkim_aligned_pass = dkim_aligned_pass + excluded.dkim_aligned_pass,
        spf_aligned_pass = spf_aligned_pass + excluded.spf_aligned_pass,
        disposition_quarantine = disposition_quarantine + excluded.disposition_quarantine,
        disposition_reject = disposition_reject + excluded.disposition_reject;
END;
