#!/usr/bin/env bash
# IMAP -> Kafka throughput: generated report emails dropped into a folder of
# a local Dovecot (.ci/dovecot.sh), then `dmarcflow ingest` with the IMAP
# source until the folder is empty (every message fetched, parsed,
# published, acknowledged and moved); next to files -> Kafka on the same
# emails in the same run.
#
#   benches/e2e/imap.sh [EMAILS]        (default 5000)
set -euo pipefail
cd "$(dirname "$0")/../.."
emails="${1:-5000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
dovecot_dir=$(mktemp -d /tmp/dmarcflow-bench-dovecot.XXXXXX)
.ci/dovecot.sh "$dovecot_dir" >/dev/null
# shellcheck source=/dev/null
. "$dovecot_dir/env"
if ! (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; then
    .ci/kafka.sh "$(mktemp -d /tmp/dmarcflow-e2e-kafka.XXXXXX)" >/dev/null
fi
cargo build --release -q --bin dmarcflow -p dmarcflow
cargo build --release -q -p dmarcflow-benches --bin generate
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d /tmp/dmarcflow-e2e-imap.XXXXXX)
trap 'kill $ingest_pid 2>/dev/null || true; rm -rf "$work"; pkill -x dovecot || true; rm -rf "$dovecot_dir"' EXIT
ingest_pid=
"$bin/generate" emails "$work/inbox" "$emails" >/dev/null
bytes=$(du -sb "$work/inbox" | cut -f1)
stamp=$(date +%s%N)
now() { date +%s.%N; }
export DMARCFLOW_KAFKA_BROKERS=127.0.0.1:9092

# Files -> Kafka, the baseline.
t0=$(now)
DMARCFLOW_KAFKA_TOPIC_PREFIX="imap-bench-files-$stamp" \
    "$bin/dmarcflow" ingest --state "$work/state" "$work/inbox" 2>"$work/files.log"
t1=$(now)

# The same emails in a maildir folder Dovecot serves (Maildir++: .name).
box="bench-$stamp"
folder="$DMARCFLOW_IMAP_TEST_MAILDIR/.$box"
mkdir -p "$folder/cur" "$folder/new" "$folder/tmp"
n=0
for f in "$work"/inbox/*; do
    n=$((n + 1))
    cp "$f" "$folder/new/$stamp.$n.bench:2,"
done
# Dovecot's mail user must own all of it (the maildir may be new).
chown -R --reference="$dovecot_dir/mail" "$dovecot_dir/mail"
waiting() { find "$folder/cur" "$folder/new" -type f | wc -l; }

t2=$(now)
DMARCFLOW_KAFKA_TOPIC_PREFIX="imap-bench-imap-$stamp" \
DMARCFLOW_IMAP_HOST="$DMARCFLOW_IMAP_TEST_HOST" \
DMARCFLOW_IMAP_PORT="$DMARCFLOW_IMAP_TEST_TLS_PORT" \
DMARCFLOW_IMAP_USERNAME="$DMARCFLOW_IMAP_TEST_USER" \
DMARCFLOW_IMAP_PASSWORD="$DMARCFLOW_IMAP_TEST_PASSWORD" \
DMARCFLOW_IMAP_CA_FILE="$DMARCFLOW_IMAP_TEST_CA" \
DMARCFLOW_IMAP_MAILBOXES="$box" \
DMARCFLOW_IMAP_PROCESSED_FOLDER="$box-done" \
DMARCFLOW_IMAP_INVALID_FOLDER="$box-invalid" \
    "$bin/dmarcflow" ingest 2>"$work/imap.log" &
ingest_pid=$!
while [ "$(waiting)" -gt 0 ]; do
    sleep 0.05
done
t3=$(now)
kill "$ingest_pid"
wait "$ingest_pid" || true
ingest_pid=
moved=$(find "$DMARCFLOW_IMAP_TEST_MAILDIR/.$box-done/cur" "$DMARCFLOW_IMAP_TEST_MAILDIR/.$box-done/new" -type f | wc -l)

python3 - "$emails" "$bytes" "$moved" "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
emails, size, moved = map(int, sys.argv[1:4])
t0, t1, t2, t3 = map(float, sys.argv[4:8])
files, imap = t1 - t0, t3 - t2
print(f"{emails} generated emails ({size/1e6:.1f} MB); {moved} moved to the processed folder")
print()
print("| stage | seconds | emails/s | MB/s (input) |")
print("|---|---|---|---|")
print(f"| files -> Kafka (`dmarcflow ingest DIR`, acked) | {files:.2f} | {emails/files:,.0f} | {size/1e6/files:.1f} |")
print(f"| IMAP (Dovecot, TLS) -> Kafka, acked and moved | {imap:.2f} | {emails/imap:,.0f} | {size/1e6/imap:.1f} |")
PY
