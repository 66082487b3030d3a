#!/usr/bin/env bash
# Classification and readiness of a month of generated mail on the
# embedded store, next to the report views it opens before: EMAILS
# generated report emails (default 20000; dates within 30 days) stored by
# `dmarcflow run` into SQLite, then `enforce-bench` (median of 5).
#
#   benches/enforce.sh [EMAILS]
set -euo pipefail
cd "$(dirname "$0")/.."
emails="${1:-20000}"
unset DMARCFLOW_CLICKHOUSE_URL DMARCFLOW_KAFKA_BROKERS DMARCFLOW_CONFIG
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q --bin dmarcflow -p dmarcflow
cargo build --release -q -p dmarcflow-benches --bin generate --bin enforce-bench
bin="$(realpath "$CARGO_TARGET_DIR")/release"
work=$(mktemp -d /tmp/dmarcflow-enforce-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin/generate" emails "$work/emails" "$emails" 5 >/dev/null
(cd "$work" && "$bin/dmarcflow" run emails 2>&1 | tail -1)
"$bin/enforce-bench" "$work/dmarcflow.db" example.com 2023-11-01 2023-12-31 5
