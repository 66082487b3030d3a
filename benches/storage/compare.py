#!/usr/bin/env python3
"""Compressed storage per record of the two ClickHouse schemas, on the
current release (chDB): the one of migrations 0001-0005 (what 18.16 keeps)
and the current one (0006: IPv6, LowCardinality, ZSTD), filled with the
same records (read from a dmarcflow SQLite store, as the sink would write
them), each table merged to one part.

usage: compare.py DMARCFLOW_BINARY STORE.db
"""

import json
import subprocess
import sys
import tempfile

from chdb import session

binary, store = sys.argv[1], sys.argv[2]
lines = subprocess.run([binary, "clickhouse-sql"], check=True, capture_output=True, text=True).stdout
migrations = [json.loads(l) for l in lines.splitlines() if json.loads(l)["kind"] == "migration"]

# The SQLite store's records as the ClickHouse sink encodes them.
ROWS = """
SELECT report_id, toUInt32(record_index), org_name, toDateTime(date_begin, 'UTC'), toDateTime(date_end, 'UTC'),
  policy_domain, toFixedString(IPv6StringToNum(if(position(source_ip, ':') > 0, source_ip, concat('::ffff:', source_ip))), 16),
  source_ip, toUInt64(message_count), disposition, dkim, spf,
  JSONExtract(reason_types, 'Array(String)'), JSONExtract(reason_comments, 'Array(String)'),
  header_from, envelope_from, envelope_to,
  JSONExtract(dkim_domains, 'Array(String)'), JSONExtract(dkim_selectors, 'Array(String)'),
  CAST(JSONExtract(dkim_results, 'Array(String)') AS Array(Enum8('' = 0, 'none' = 1, 'pass' = 2, 'fail' = 3, 'policy' = 4, 'neutral' = 5, 'temperror' = 6, 'permerror' = 7, 'other' = 8))),
  JSONExtract(dkim_human_results, 'Array(String)'), JSONExtract(spf_domains, 'Array(String)'),
  CAST(JSONExtract(spf_scopes, 'Array(String)') AS Array(Enum8('' = 0, 'mfrom' = 1, 'helo' = 2, 'other' = 3))),
  CAST(JSONExtract(spf_results, 'Array(String)') AS Array(Enum8('' = 0, 'none' = 1, 'neutral' = 2, 'pass' = 3, 'fail' = 4, 'softfail' = 5, 'temperror' = 6, 'permerror' = 7, 'policy' = 8, 'other' = 9))),
  JSONExtract(spf_human_results, 'Array(String)'), []
FROM sqlite('{store}', 'aggregate_records')
"""

with tempfile.TemporaryDirectory() as path:
    s = session.Session(path)
    sizes = {}
    for db, keep in (("before", lambda m: not m["name"].startswith("0006")), ("current", lambda m: True)):
        s.query(f"CREATE DATABASE {db}")
        s.query(f"USE {db}")
        for m in migrations:
            if keep(m):
                s.query(m["sql"])
        s.query(f"INSERT INTO {db}.aggregate_records " + ROWS.format(store=store))
        s.query(f"OPTIMIZE TABLE {db}.aggregate_records FINAL")
        row = str(s.query(
            f"SELECT sum(rows), sum(data_compressed_bytes), sum(data_uncompressed_bytes) FROM system.parts "
            f"WHERE database = '{db}' AND table = 'aggregate_records' AND active", "TabSeparated")).split()
        rows, compressed, uncompressed = (int(x) for x in row)
        sizes[db] = compressed / rows
        print(f"{db:8} schema: {rows} records, {compressed} bytes compressed ({compressed / rows:.1f} bytes/record), "
              f"{uncompressed / rows:.1f} bytes/record uncompressed")
    print(f"current/before: {sizes['current'] / sizes['before']:.2f} of the bytes per record")
