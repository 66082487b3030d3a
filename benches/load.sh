#!/usr/bin/env bash
# The SMTP load test (tests/load.rs) on a release build: one sequential
# client (and the same without the group commit, as the baseline), then 50
# concurrent STARTTLS clients sending corpus reports, generated ones, large
# reports and bombs to `dmarcflow run` on the embedded store; then the bare
# store write rate of the same reports. Needs ../shared/corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test load -- --nocapture 2>&1 |
  grep -E '^(1 sequential|50 concurrent|peak RSS|bare store)'
