#!/usr/bin/env bash
# Installs (cargo install, ~15 min the first time, then cached in
# ~/.cargo/bin) and starts the Kafka-compatible broker tansu on
# 127.0.0.1:9092 with in-memory storage. Logs go to $1 (default
# /tmp/dmarcflow-tansu.log). Exits non-zero if the broker does not listen.
set -euo pipefail
log="${1:-/tmp/dmarcflow-tansu.log}"
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tansu >/dev/null; then
    cargo install tansu --version 0.6.0 --features dynostore --locked
fi
if (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; then
    exit 0
fi
nohup tansu broker \
    --listener-url tcp://127.0.0.1:9092 \
    --advertised-listener-url tcp://127.0.0.1:9092 \
    --storage-engine memory://tansu/ >"$log" 2>&1 &
for _ in $(seq 1 60); do
    (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null && exit 0
    sleep 0.5
done
echo "tansu did not start; log:" >&2
tail -20 "$log" >&2 || true
exit 1
