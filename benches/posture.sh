#!/usr/bin/env bash
# Domain posture checks: domains/s and DNS lookups per domain for
# `dmarcflow check` over DOMAINS domains served by a local Knot, next to
# checkdmarc 6.x (PyPI) on the same zones in the same run; and where the
# two disagree: each domain's SPF lookup and void lookup counts, and every
# problem checkdmarc reports that dmarcflow has no finding for.
#
#   benches/posture.sh [DOMAINS]      (default 1000)
#
# The zones are written here (benches/posture/zones.py): one zone per
# domain, cycling through valid and broken variants of every record
# (SPF at 3 and 11 lookups, void lookups, an include loop, a missing
# include, ptr, +all; two DMARC records, p=none, a bad pct, none at all;
# a TLS-RPT record without a valid rua; MTA-STS announced with no policy
# host; BIMI without enforcement), their includes in a shared provider
# zone. Knot listens on 127.0.0.9:53 (checkdmarc takes a nameserver
# address, not a port), so this runs as root. MX hosts are not probed
# (`--skip-starttls`; checkdmarc tests TLS only with `--check-mx-tls`).
set -euo pipefail
cd "$(dirname "$0")/.."
domains="${1:-1000}"
unset DMARCFLOW_CLICKHOUSE_URL DMARCFLOW_KAFKA_BROKERS DMARCFLOW_CONFIG
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q --bin dmarcflow -p dmarcflow
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d /tmp/dmarcflow-posture-bench.XXXXXX)
knot_pid=
trap '[ -n "$knot_pid" ] && kill "$knot_pid" 2>/dev/null; rm -rf "$work"' EXIT

# checkdmarc from PyPI into a directory of its own (this machine's Python
# has no ensurepip for a virtualenv).
lib="${CHECKDMARC_LIB:-/tmp/dmarcflow-checkdmarc-lib}"
[ -f "$lib/bin/checkdmarc" ] || python3 -m pip install -q --target "$lib" "checkdmarc>=6,<7"
version=$(PYTHONPATH="$lib" python3 -c "import checkdmarc; print(checkdmarc.__version__)")

python3 benches/posture/zones.py "$work" "$domains" 127.0.0.9 53
/usr/sbin/knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
knot_pid=$!
for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.9/53) 2>/dev/null && break
    sleep 0.2
done

mapfile -t names < "$work/domains.txt"
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/dmarcflow.rss" \
    env DMARCFLOW_ENRICH_NAMESERVERS=127.0.0.9:53 "$bin/dmarcflow" check --json --skip-starttls \
    --timeout-ms 2000 --concurrency 16 --selector s1 --no-store "${names[@]}" \
    >"$work/dmarcflow.jsonl" 2>"$work/dmarcflow.err" || true
end=$(date +%s.%N)
dmarcflow_s=$(echo "$end - $start" | bc)

start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/checkdmarc.rss" \
    env PYTHONPATH="$lib" python3 "$lib/bin/checkdmarc" -n 127.0.0.9 -t 2 -f json "${names[@]}" \
    >"$work/checkdmarc.json" 2>"$work/checkdmarc.err" || true
end=$(date +%s.%N)
checkdmarc_s=$(echo "$end - $start" | bc)

python3 benches/posture/compare.py "$work" "$version" "$dmarcflow_s" "$checkdmarc_s"
