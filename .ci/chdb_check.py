#!/usr/bin/env python3
"""The SQL dmarcflow sends to ClickHouse, run on the current release.

The tests' server is Debian's ClickHouse 18.16; current releases run here
only in process, through chDB (PyPI), which cannot serve HTTP. This check
runs on one: every migration (twice: idempotent) and the migration ledger,
rows inserted with the settings the sink sends, the daily tables exact when
a block is repeated with its insert_deduplication_token (a retry whose
first attempt was written but not seen by the sink's lookup), every Grafana
panel and variable query with its macros expanded, the dedup lookups the
sink sends and the `report` command's queries (both from the hidden
`dmarcflow clickhouse-sql`, over the example reports). Any error fails.

usage: chdb_check.py DMARCFLOW_BINARY
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import chdb
from chdb import session

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []
ran = 0


def query(s, sql, what, fmt="TabSeparated"):
    """Runs one statement; an error is recorded, never raised."""
    global ran
    ran += 1
    try:
        return str(s.query(sql, fmt)).strip()
    except Exception as e:  # chDB raises its own error types
        failures.append(f"{what}: {e}\n    {sql[:300]}")
        return None


def expect(s, sql, want, what):
    got = query(s, sql, what)
    if got is not None and got != str(want):
        failures.append(f"{what}: {sql} gave {got!r}, expected {want!r}")


def expand(sql, domain):
    """grafana-clickhouse-datasource's macros over a range covering the data
    (as store/tests/clickhouse.rs expands them)."""
    sql = sql.replace("${domain}", domain)
    sql = re.sub(
        r"\$__timeFilter\(([^)]*)\)",
        lambda m: f"{m[1].strip()} >= toDateTime(946684800) AND {m[1].strip()} <= toDateTime(1893456000)",
        sql,
    )
    sql = re.sub(
        r"\$__dateFilter\(([^)]*)\)",
        lambda m: f"{m[1].strip()} >= toDate('2000-01-01') AND {m[1].strip()} <= toDate('2030-01-01')",
        sql,
    )
    if "$__" in sql or "${" in sql:
        failures.append(f"unexpanded macro: {sql}")
    return sql


def check_totals(s, times):
    """Each block of `fill` counted once, `times` fills so far."""
    for table, rows in [
        ("aggregate_records", 2),
        ("aggregate_reports", 1),
        ("tlsrpt_policies", 1),
        ("tlsrpt_failures", 1),
        ("tlsrpt_reports", 1),
        ("failure_reports", 1),
    ]:
        expect(s, f"SELECT count() FROM {table}", rows * times, f"{table} after repeated blocks")
    for sql, want in [
        ("SELECT sum(messages) FROM aggregate_by_source_daily", 42),
        ("SELECT sum(dmarc_fail) FROM aggregate_by_source_daily", 2),
        ("SELECT sum(messages) FROM aggregate_by_result_daily", 42),
        ("SELECT sum(messages) FROM aggregate_by_host_daily WHERE base_domain = 'mailco.example'", 40),
        ("SELECT sum(dmarc_fail) FROM aggregate_by_host_daily WHERE base_domain = ''", 2),
        ("SELECT sum(messages) FROM aggregate_by_sender_daily WHERE sender_name = 'Mail Co' AND sender_type = 'email'", 40),
        ("SELECT sum(disposition_reject) FROM aggregate_by_network_daily WHERE asn = 64511", 2),
        ("SELECT sum(messages) FROM aggregate_by_country_daily WHERE country = 'NL'", 40),
        ("SELECT sum(messages) FROM aggregate_by_reporter_daily WHERE org_name = 'Mail Co'", 42),
        ("SELECT sum(sessions) FROM tlsrpt_by_result_daily WHERE result_type = 'success'", 100),
        ("SELECT sum(sessions) FROM tlsrpt_by_result_daily WHERE result_type = 'certificate-expired'", 3),
    ]:
        expect(s, sql, want * times, "daily table after repeated blocks")


def settings(insert_settings, token):
    pairs = [f"insert_deduplication_token = '{token}'"]
    pairs += [f"{k} = {v}" for k, v in insert_settings.items()]
    return "SETTINGS " + ", ".join(pairs)


def main():
    binary = sys.argv[1]
    out = subprocess.run(
        [binary, "clickhouse-sql", os.path.join(ROOT, "examples")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    statements = [json.loads(line) for line in out.splitlines()]
    of = lambda kind: [x for x in statements if x["kind"] == kind]
    insert_settings = of("insert_settings")[0]["settings"]

    with tempfile.TemporaryDirectory() as path:
        s = session.Session(path)
        print(f"chDB {chdb.__version__}, ClickHouse {query(s, 'SELECT version()', 'version')}")
        query(s, "CREATE DATABASE IF NOT EXISTS dmarcflow", "database")
        query(s, "USE dmarcflow", "use")

        # A server upgraded from 18.16: the migrations it ran (those without
        # a minimum version: 0001-0003, 0007) and the dedup windows, twice,
        # with the ledger as `dmarcflow migrate` keeps it; then rows; then
        # the current schema (0006, which rebuilds the tables 0007 added
        # columns to) 0008 and 0011 over them, twice: nothing lost or doubled.
        migrations = of("migration")
        rebuild = [x for x in migrations if x["name"][:4] in ("0006", "0008", "0011")]
        before = [x for x in migrations if x not in rebuild]
        for round_ in (1, 2):
            for x in of("ledger"):
                if x["name"] != "ledger write" or round_ == 1:
                    query(s, x["sql"], f"{x['name']} (round {round_})")
            for x in before:
                query(s, x["sql"], f"migration {x['name']} (round {round_})")
        expect(s, "SELECT count() FROM system.tables WHERE database = 'dmarcflow' AND engine = 'MaterializedView'", 9, "views")

        def fill(tag, times, attempts):
            """Every table's rows, each block inserted `attempts` times with
            its token; the totals must count it once (`times` fills so
            far)."""
            # Rows as the sink inserts them, each block twice with its token.
            records = (
                "INSERT INTO aggregate_records (report_id, record_index, org_name, date_begin, date_end, "
                "policy_domain, source_ip, source_ip_text, message_count, disposition, dkim, spf, header_from, "
                "source_ptr, source_ptr_confirmed, source_base_domain, source_name, source_type, source_asn, "
                "source_as_name, source_as_domain, source_country) {s} VALUES "
                "('r1{tag}', 0, 'Mail Co', toDateTime(1700438400), toDateTime(1700524799), 'example.com', "
                "IPv6StringToNum('::ffff:198.51.100.7'), '198.51.100.7', 40, 'none', 'pass', 'pass', 'example.com', "
                "'mail-7.mailco.example', 1, 'mailco.example', 'Mail Co', 'email', 64500, 'Mail Co Networks', 'mailco.example', 'NL'), "
                "('r1{tag}', 1, 'Mail Co', toDateTime(1700438400), toDateTime(1700524799), 'example.com', "
                "IPv6StringToNum('::ffff:198.51.100.8'), '198.51.100.8', 2, 'reject', 'fail', 'fail', 'example.com', "
                "'', 0, '', '', '', 64511, 'Bulletproof Hosting', 'bph.example', 'RU')"
            )
            report = (
                "INSERT INTO aggregate_reports (report_id, org_name, date_begin, date_end, policy_domain, p, "
                "record_count, message_count) {s} VALUES ('r1{tag}', 'Mail Co', toDateTime(1700438400), "
                "toDateTime(1700524799), 'example.com', 'reject', 2, 42)"
            )
            policies = (
                "INSERT INTO tlsrpt_policies (report_id, policy_index, organization_name, date_begin, date_end, "
                "policy_type, policy_domain, successful_sessions, failed_sessions) {s} VALUES "
                "('t1{tag}', 0, 'Mail Co', toDateTime(1700438400), toDateTime(1700524799), 'sts', 'example.com', 100, 3)"
            )
            details = (
                "INSERT INTO tlsrpt_failures (report_id, policy_index, detail_index, organization_name, date_begin, "
                "policy_type, policy_domain, result_type, result_type_text, sending_mta_ip, sending_mta_ip_text, "
                "receiving_mx_hostname, receiving_ip, failed_sessions) {s} VALUES ('t1{tag}', 0, 0, 'Mail Co', "
                "toDateTime(1700438400), 'sts', 'example.com', 'certificate-expired', 'certificate-expired', "
                "IPv6StringToNum('::ffff:198.51.100.25'), '198.51.100.25', 'mx1.example.com', "
                "IPv6StringToNum('::ffff:203.0.113.10'), 3)"
            )
            tls_report = (
                "INSERT INTO tlsrpt_reports (report_id, organization_name, date_begin, date_end, policy_count, "
                "successful_sessions, failed_sessions) {s} VALUES ('t1{tag}', 'Mail Co', toDateTime(1700438400), "
                "toDateTime(1700524799), 1, 100, 3)"
            )
            failure = (
                "INSERT INTO failure_reports (report_id, arrival_date, reported_domain, feedback_type, source_ip, "
                "source_ip_text, auth_failure, delivery_result) {s} VALUES ('f1{tag}', toDateTime(1700475298), "
                "'example.com', 'auth-failure', IPv6StringToNum('::ffff:198.51.100.77'), '198.51.100.77', "
                "['dmarc'], 'reject')"
            )
            for name, sql in [
                ("aggregate_records", records),
                ("aggregate_reports", report),
                ("tlsrpt_policies", policies),
                ("tlsrpt_failures", details),
                ("tlsrpt_reports", tls_report),
                ("failure_reports", failure),
            ]:
                for attempt in range(1, attempts + 1):
                    query(s, sql.format(s=settings(insert_settings, f"token-{tag}-{name}"), tag=tag), f"insert {name} (attempt {attempt})")
            check_totals(s, times)

        # Once each: before 0008 the five enrichment views have no dedup
        # window (no sink sends tokens to a server it has not migrated).
        fill("a", 1, 1)
        for round_ in (1, 2):
            for x in rebuild:
                query(s, x["sql"], f"migration {x['name']} (round {round_})")
        check_totals(s, 1)
        for column, want in [
            ("aggregate_records.source_ip", "IPv6"),
            ("aggregate_records.policy_domain", "LowCardinality(String)"),
            ("aggregate_by_source_daily.source_ip", "IPv6"),
            ("tlsrpt_failures.receiving_ip", "IPv6"),
            ("failure_reports.sample", "String"),
            ("aggregate_records.source_country", "LowCardinality(String)"),
            ("aggregate_records.source_asn", "UInt32"),
            ("aggregate_reports.reporter_auth", "LowCardinality(String)"),
            ("tlsrpt_failures.sending_mta_as_name", "LowCardinality(String)"),
            ("aggregate_by_sender_daily.sender_name", "LowCardinality(String)"),
            ("aggregate_records.source_identified_by", "LowCardinality(String)"),
        ]:
            table, name = column.split(".")
            expect(s, f"SELECT type FROM system.columns WHERE database = 'dmarcflow' AND table = '{table}' AND name = '{name}'", want, f"type of {column}")
        expect(s, "SELECT count() FROM system.tables WHERE database = 'dmarcflow' AND engine = 'MaterializedView'", 9, "views after 0006 and 0008")
        expect(s, "SELECT count() FROM system.tables WHERE database = 'dmarcflow' AND name LIKE '%\\_\\_%'", 0, "no table left over")
        fill("b", 2, 2)
        # Retention: a century keeps everything; 400 days expires the 2023 rows.
        for x in of("retention"):
            if x["name"] == "retention 36500 days":
                query(s, x["sql"], x["name"])
        expect(s, "SELECT count() FROM system.tables WHERE database = 'dmarcflow' AND create_table_query LIKE '%TTL %'", 14, "tables with a TTL")
        check_totals(s, 2)

        # Every Grafana panel and variable query.
        panels = 0
        folder = os.path.join(ROOT, "deploy", "grafana", "dashboards")
        for name in sorted(os.listdir(folder)):
            board = json.load(open(os.path.join(folder, name)))
            found = [(f"variable {v.get('name')}", v.get("query", "")) for v in board.get("templating", {}).get("list", [])]
            for panel in board.get("panels", []):
                for target in panel.get("targets", []):
                    found.append((panel.get("title", "?"), target.get("rawSql", "")))
            for title, sql in found:
                if isinstance(sql, dict):
                    sql = sql.get("query", "")
                if not sql:
                    continue
                query(s, expand(sql, "example.com"), f"{name} {title}")
                panels += 1

        # The provisioned Grafana alert rules' queries.
        alerting = json.load(open(os.path.join(ROOT, "deploy", "grafana", "provisioning", "alerting", "dmarcflow-rules.json")))
        for group in alerting["groups"]:
            for rule in group["rules"]:
                for node in rule["data"]:
                    if node["datasourceUid"] != "__expr__":
                        query(s, expand(node["model"]["rawSql"], "example.com"), f"alert rule {rule['title']}")
                        panels += 1

        # Cluster mode's DDL (ON CLUSTER, Replicated*, Distributed): chDB has
        # no cluster to run it on, so it is parsed by the current release.
        for x in of("cluster"):
            literal = x["sql"].replace("\\", "\\\\").replace("'", "\\'")
            query(s, f"SELECT formatQuery('{literal}')", x["name"])

        # The sink's lookups and the report command's queries.
        for x in of("lookup") + of("report") + of("alert"):
            query(s, x["sql"], x["name"])

        for x in of("retention"):
            if x["name"] == "retention 400 days":
                query(s, x["sql"], x["name"])
        for table in ("aggregate_records", "failure_reports", "tlsrpt_failures", "aggregate_by_source_daily"):
            query(s, f"OPTIMIZE TABLE {table} FINAL", f"optimize {table}")
            expect(s, f"SELECT count() FROM {table}", 0, f"{table} after 400 days of retention")

        print(f"{ran} statements, {panels} Grafana queries (alert rules too), {len(of('lookup'))} lookups, {len(of('report'))} report queries, {len(of('alert'))} alert rules, {len(of('cluster'))} cluster statements parsed")
    if failures:
        print(f"{len(failures)} failures:")
        for f in failures:
            print(f"  {f}")
        sys.exit(1)
    print("chDB check: no failures")


main()
