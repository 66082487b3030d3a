#!/usr/bin/env bash
# The sink benchmark: rows/s through the ClickHouse sink next to a bare
# `clickhouse` crate insert of the same rows, and the SQLite store, in one
# run. Starts a throwaway ClickHouse (Debian's clickhouse-server) if none
# answers at 127.0.0.1:8123. Arguments: [EMAILS] [ROUNDS] (default 16000 5).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1; then
    .ci/clickhouse.sh "$(mktemp -d /tmp/dmarcflow-bench-clickhouse.XXXXXX)"
fi
cargo run --release -q -p dmarcflow-benches --bin sink-bench -- "$@"
