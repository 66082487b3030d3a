#!/usr/bin/env bash
# Listener cost before and after the accept discipline of dmarcflow-listen
# (caps, refusals, timeouts, a reservation per connection), in one run:
# the release binary of BASE (default e0bcbb3, the last commit before it)
# and of the working tree, each as `dmarcflow run` with the SMTP listener
# and the HTTPS endpoint on loopback, the caps of the new one set above the
# load so both serve every connection.
# - accepted/s: connections opened, served (SMTP greeting read, or TLS
#   handshake completed) and closed, by 32 clients at once for 5 s;
# - memory per idle connection: the server's RSS with N idle connections
#   (greeted, or through the handshake) less its RSS before, over N; a
#   fresh server for each.
# Usage: benches/listeners.sh [BASE] (N=4000 by default).
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-e0bcbb3}"
n="${N:-4000}"
ulimit -n "$(ulimit -Hn)"
target="${CARGO_TARGET_DIR:-$PWD/target}"
work="$(mktemp -d /tmp/dmarcflow-listeners.XXXXXX)"
trap 'pkill -f "$work/" 2>/dev/null || true; git worktree remove --force "$work/base" 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release -q --bin dmarcflow
cp "$target/release/dmarcflow" "$work/after"
cargo build --release -q -p dmarcflow-benches --bin listener-bench
client="$target/release/listener-bench"
git worktree add -q --detach "$work/base" "$base"
(cd "$work/base" && CARGO_TARGET_DIR="$target" cargo build --release -q --bin dmarcflow)
cp "$target/release/dmarcflow" "$work/before"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# start BIN: a server on fresh ports; sets pid, smtp, https, dir.
start() {
  # Below the ephemeral range, where the clients' own ports are.
  smtp=$((10000 + RANDOM % 20000 / 2 * 2)); https=$((smtp + 1))
  dir="$(mktemp -d "$work/run.XXXXXX")"
  (cd "$dir" && exec env -u DMARCFLOW_CONFIG -u DMARCFLOW_CLICKHOUSE_URL -u DMARCFLOW_KAFKA_BROKERS \
    DMARCFLOW_SQLITE_PATH="$dir/store.db" DMARCFLOW_MEMORY_BUDGET=4GiB \
    DMARCFLOW_SMTP_LISTEN="127.0.0.1:$smtp" DMARCFLOW_SMTP_HOSTNAME=localhost \
    DMARCFLOW_SMTP_MAX_CONNECTIONS=20000 DMARCFLOW_SMTP_MAX_CONNECTIONS_PER_IP=20000 \
    DMARCFLOW_HTTP_LISTEN="127.0.0.1:$https" \
    DMARCFLOW_HTTP_TLS_CERT="$work/cert.pem" DMARCFLOW_HTTP_TLS_KEY="$work/key.pem" \
    DMARCFLOW_HTTP_MAX_CONNECTIONS=20000 DMARCFLOW_HTTP_MAX_CONNECTIONS_PER_IP=20000 \
    RUST_LOG=error "$1" run >"$dir/log" 2>&1) &
  pid=$!  # dmarcflow itself: the subshell execs it
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$https") 2>/dev/null && break
    sleep 0.1
  done
  sleep 0.5
}

stop() {
  kill "$pid" 2>/dev/null || echo "the server had exited: $(tail -3 "$dir/log")" >&2
  wait "$pid" 2>/dev/null || true
}

# per_idle BIN smtp|https: KiB of RSS per idle connection.
per_idle() {
  start "$1"
  local port=$smtp; [ "$2" = https ] && port=$https
  local before; before=$(rss_kib "$pid")
  local out="$work/hold.$2"
  "$client" hold "$2" "$port" "$n" 15 "$work/cert.pem" >"$out" &
  local holder=$!
  for _ in $(seq 1 300); do grep -q '^held' "$out" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  local during; during=$(rss_kib "$pid")
  local held; held=$(awk '/^held/ { print $2 }' "$out")
  kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true
  stop
  awk -v a="$before" -v b="$during" -v h="$held" 'BEGIN { printf "%.1f (%d held)", (b - a) / h, h }'
}

# rate BIN smtp|https: connections served a second.
rate() {
  start "$1"
  local port=$smtp; [ "$2" = https ] && port=$https
  "$client" rate "$2" "$port" 5 32 "$work/cert.pem" | awk '{ print $2 }'
  stop
}

echo "| listener | build | accepted/s | KiB per idle connection |"
echo "|---|---|---:|---:|"
for kind in smtp https; do
  for build in before after; do
    echo "| $kind | $build | $(rate "$work/$build" "$kind") | $(per_idle "$work/$build" "$kind") |"
  done
done
