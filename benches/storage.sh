#!/usr/bin/env bash
# Compressed bytes per record of the ClickHouse schema before migration 0006
# and of the current one, on the same generated records, measured on the
# current release through chDB (pip install chdb). N emails (default 4000,
# about 100k records).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-4000}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cargo build -q --release -p dmarcflow-benches --bin generate
cargo build -q --release --bin dmarcflow
target="${CARGO_TARGET_DIR:-target}/release"
"$target/generate" emails "$tmp/emails" "$n" >/dev/null
"$target/dmarcflow" run --db "$tmp/store.db" "$tmp/emails" 2>&1 | tail -1
python3 benches/storage/compare.py "$target/dmarcflow" "$tmp/store.db"
