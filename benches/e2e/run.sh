#!/usr/bin/env bash
# The end-to-end benchmark: generated report emails from files -> Kafka ->
# ClickHouse on this machine, next to parse-only throughput in the same run.
#
#   benches/e2e/run.sh [EMAILS]        (default 20000)
#
# Starts ClickHouse and the tansu broker if they are not running (the .ci
# scripts), builds the release binary, then, on fresh topics and a fresh
# database:
#   1. parse-only: `dmarcflow parse DIR > /dev/null`
#   2. `dmarcflow sink` running; `dmarcflow ingest DIR` timed (files -> Kafka)
#   3. the time until the last report row is queryable in ClickHouse
# and prints a Markdown table: reports/s and rows/s for each stage.
set -euo pipefail
cd "$(dirname "$0")/../.."
emails="${1:-20000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1 || .ci/clickhouse.sh "$(mktemp -d /tmp/dmarcflow-e2e-clickhouse.XXXXXX)"
.ci/tansu.sh /tmp/dmarcflow-e2e-tansu.log
cargo build --release -q --bin dmarcflow -p dmarcflow
cargo build --release -q -p dmarcflow-benches --bin generate
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d /tmp/dmarcflow-e2e.XXXXXX)
trap 'kill $sink_pid 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/generate" emails "$work/inbox" "$emails" >/dev/null
bytes=$(du -sb "$work/inbox" | cut -f1)
stamp=$(date +%s%N)
export DMARCFLOW_KAFKA_BROKERS=127.0.0.1:9092
export DMARCFLOW_KAFKA_TOPIC_PREFIX="e2e-$stamp"
export DMARCFLOW_KAFKA_GROUP="e2e-$stamp"
export DMARCFLOW_KAFKA_INSTANCE_ID="e2e-sink"
export DMARCFLOW_CLICKHOUSE_URL=http://127.0.0.1:8123
export DMARCFLOW_CLICKHOUSE_DATABASE="dmarcflow_e2e_$stamp"
now() { date +%s.%N; }
ch() { curl -s http://127.0.0.1:8123/ --data "$1"; }

t0=$(now)
"$bin/dmarcflow" parse --no-progress "$work/inbox" >/dev/null
t1=$(now)
reports=$("$bin/dmarcflow" parse --no-progress "$work/inbox" | wc -l)

"$bin/dmarcflow" migrate >/dev/null
"$bin/dmarcflow" sink 2>"$work/sink.log" &
sink_pid=$!
t2=$(now)
"$bin/dmarcflow" ingest --state "$work/state" "$work/inbox" 2>"$work/ingest.log"
t3=$(now)
while [ "$(ch "SELECT count() FROM $DMARCFLOW_CLICKHOUSE_DATABASE.aggregate_reports")" -lt "$reports" ]; do
    sleep 0.05
done
t4=$(now)
records=$(ch "SELECT count() FROM $DMARCFLOW_CLICKHOUSE_DATABASE.aggregate_records")
rows=$((records + reports))
kill $sink_pid
ch "DROP DATABASE $DMARCFLOW_CLICKHOUSE_DATABASE" >/dev/null

python3 - "$emails" "$bytes" "$reports" "$records" "$rows" "$t0" "$t1" "$t2" "$t3" "$t4" <<'PY'
import sys
emails, size, reports, records, rows = map(int, sys.argv[1:6])
t0, t1, t2, t3, t4 = map(float, sys.argv[6:11])
parse, ingest, total, tail = t1 - t0, t3 - t2, t4 - t2, t4 - t3
print(f"{emails} generated emails ({size/1e6:.1f} MB), {reports} reports, {records} records, {rows} rows")
print()
print("| stage | seconds | reports/s | rows/s | MB/s (input) |")
print("|---|---|---|---|---|")
print(f"| parse only (`dmarcflow parse`, one thread) | {parse:.2f} | {reports/parse:,.0f} | | {size/1e6/parse:.1f} |")
print(f"| files -> Kafka (`dmarcflow ingest`, acked) | {ingest:.2f} | {reports/ingest:,.0f} | | {size/1e6/ingest:.1f} |")
print(f"| files -> Kafka -> ClickHouse, last row queryable | {total:.2f} | {reports/total:,.0f} | {rows/total:,.0f} | {size/1e6/total:.1f} |")
print(f"| last row queryable after ingest finished | {tail:.2f} | | | |")
PY
