#!/usr/bin/env bash
# The end-to-end benchmark: generated report emails from files -> Kafka ->
# ClickHouse on this machine, next to parse-only throughput and a bare
# librdkafka producer in the same run.
#
#   benches/e2e/run.sh [EMAILS]        (default 20000)
#
# Starts ClickHouse and Apache Kafka if they are not running (the .ci
# scripts), builds the release binaries, then, on fresh topics and a fresh
# database:
#   1. parse-only: `dmarcflow parse DIR > /dev/null`
#   2. the baseline of 3: `bare-produce` sends the same serialized reports
#      (the lines `dmarcflow parse` prints are the message bodies) with the
#      producer settings of `dmarcflow ingest`, to a topic of its own
#   3. `dmarcflow sink` running; `dmarcflow ingest DIR` timed (files -> Kafka)
#   4. the time until the last report row is queryable in ClickHouse
# and prints a Markdown table, then one line per ratio:
#   ingest / bare producer (target >= 0.8)
#   files -> Kafka -> ClickHouse / parse only (target >= 0.5)
set -euo pipefail
cd "$(dirname "$0")/../.."
emails="${1:-20000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1 || .ci/clickhouse.sh "$(mktemp -d /tmp/dmarcflow-e2e-clickhouse.XXXXXX)"
if ! (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; then
    .ci/kafka.sh "$(mktemp -d /tmp/dmarcflow-e2e-kafka.XXXXXX)" >/dev/null
fi
cargo build --release -q --bin dmarcflow -p dmarcflow
cargo build --release -q -p dmarcflow-benches --bin generate --bin bare-produce
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d /tmp/dmarcflow-e2e.XXXXXX)
sink_pid=
# The logs stay in $E2E_LOGS when set.
trap '[ -n "$sink_pid" ] && kill $sink_pid 2>/dev/null; [ -n "${E2E_LOGS:-}" ] && cp "$work"/*.log "$E2E_LOGS"/; rm -rf "$work"' EXIT
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
"$bin/dmarcflow" parse --no-progress "$work/inbox" >"$work/messages.jsonl"
reports=$(wc -l <"$work/messages.jsonl")
message_bytes=$(wc -c <"$work/messages.jsonl")

bare=$("$bin/bare-produce" "$DMARCFLOW_KAFKA_BROKERS" "e2e-bare-$stamp" "$work/messages.jsonl")

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
wait $sink_pid 2>/dev/null || true
sink_pid=
ch "DROP DATABASE $DMARCFLOW_CLICKHOUSE_DATABASE" >/dev/null

python3 - "$emails" "$bytes" "$reports" "$records" "$rows" "$message_bytes" "$bare" "$t0" "$t1" "$t2" "$t3" "$t4" <<'PY'
import sys
emails, size, reports, records, rows, message_bytes = map(int, sys.argv[1:7])
bare = float(sys.argv[7])
t0, t1, t2, t3, t4 = map(float, sys.argv[8:13])
parse, ingest, total, tail = t1 - t0, t3 - t2, t4 - t2, t4 - t3
print(f"{emails} generated emails ({size/1e6:.1f} MB), {reports} reports ({message_bytes/1e6:.1f} MB of JSON), {records} records, {rows} rows")
print()
print("| stage | seconds | reports/s | rows/s | MB/s (input) |")
print("|---|---|---|---|---|")
print(f"| parse only (`dmarcflow parse`, one thread) | {parse:.2f} | {reports/parse:,.0f} | | {size/1e6/parse:.1f} |")
print(f"| bare librdkafka producer, same messages and settings | {bare:.2f} | {reports/bare:,.0f} | | |")
print(f"| files -> Kafka (`dmarcflow ingest`, acked) | {ingest:.2f} | {reports/ingest:,.0f} | | {size/1e6/ingest:.1f} |")
print(f"| files -> Kafka -> ClickHouse, last row queryable | {total:.2f} | {reports/total:,.0f} | {rows/total:,.0f} | {size/1e6/total:.1f} |")
print(f"| last row queryable after ingest finished | {tail:.2f} | | | |")
print()
print(f"ratio ingest / bare producer: {bare/ingest:.2f} (target 0.8)")
print(f"ratio files -> Kafka -> ClickHouse / parse only: {parse/total:.2f} (target 0.5)")
PY
