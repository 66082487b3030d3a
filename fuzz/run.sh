#!/usr/bin/env bash
# Fuzzes every target for SECONDS each (default 120), two at a time, starting
# from the committed seeds; new inputs stay in corpus/ (not committed).
# Release build without debug assertions: mail-parser has debug_asserts that
# hostile input trips (the library turns that panic into a typed error).
#   fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-120}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O -s none
targets=(mime decompress aggregate aggregate_stream arf tlsrpt)
run() {
  mkdir -p "corpus/$1"
  cargo fuzz run -O -s none "$1" "corpus/$1" "seeds/$1" -- \
    -max_total_time="$secs" -rss_limit_mb=512 -timeout=10 -max_len=65536 > "corpus/$1.log" 2>&1
  echo "$1: $(grep -E '^#[0-9]+.*(DONE|pulse)' "corpus/$1.log" | tail -1)"
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" & run "${targets[i+1]}" & wait
done
