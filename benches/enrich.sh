#!/usr/bin/env bash
# `dmarcflow run` throughput with [enrich] next to enrichment off, in the
# same run: reverse DNS through a local Knot (Debian's knotd) that answers
# a forward-confirming PTR for every address the generator uses
# (mod-synthrecord over 198.18.0.0/15 and 2001:db8::/32), and an MMDB in
# the GeoLite2-ASN layout over the same ranges.
#
#   benches/enrich.sh [EMAILS]        (default 5000)
#
# Two sets of generated emails from the same senders (the second with other
# report ids: the next day's reports), each run into a fresh SQLite store:
#   off        `run DAY1` without [enrich]
#   cold       `run DAY1` with it: every address looked up
#   off, day 2 `run DAY1 DAY2` without, less the first run: DAY2 alone
#   warm       `run DAY1 DAY2` with it, less the cold run: DAY2 on the cache
#              DAY1 filled (the addresses it shares with DAY1 are cached;
#              the generator's IPv6 addresses never repeat)
# and prints a Markdown table, then the ratios to enrichment off (target
# for warm: >= 0.8).
set -euo pipefail
cd "$(dirname "$0")/.."
emails="${1:-5000}"
# The embedded store only, whatever the environment says.
unset DMARCFLOW_CLICKHOUSE_URL DMARCFLOW_KAFKA_BROKERS DMARCFLOW_CONFIG DMARCFLOW_ENRICH_DNS DMARCFLOW_ENRICH_SENDERS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q --bin dmarcflow -p dmarcflow
cargo build --release -q -p dmarcflow-benches --bin generate --bin bench-mmdb
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d /tmp/dmarcflow-enrich-bench.XXXXXX)
knot_pid=
trap '[ -n "$knot_pid" ] && kill $knot_pid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

"$bin/generate" emails "$work/day1" "$emails" 7 >/dev/null
"$bin/generate" emails "$work/day2" "$emails" 7 1 >/dev/null
"$bin/bench-mmdb" "$work/asn.mmdb"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
soa='@ 300 SOA ns.bench.example. hostmaster.bench.example. 1 3600 600 86400 60
@ 300 NS ns.bench.example.'
for zone in 18.198.in-addr.arpa 19.198.in-addr.arpa 8.b.d.0.1.0.0.2.ip6.arpa bench.example; do
    printf '$ORIGIN %s.\n%s\n' "$zone" "$soa" > "$work/$zone.zone"
done
echo 'ns 300 A 127.0.0.1' >> "$work/bench.example.zone"
cat > "$work/knot.conf" <<KNOT
server:
    listen: 127.0.0.1@$port
    rundir: $work
database:
    storage: $work/knotdb
log:
  - target: stderr
    any: critical
mod-synthrecord:
  - id: reverse4
    type: reverse
    prefix: ip-
    origin: bench.example
    network: 198.18.0.0/15
  - id: reverse6
    type: reverse
    prefix: ip-
    origin: bench.example
    network: 2001:db8::/32
  - id: forward4
    type: forward
    prefix: ip-
    network: 198.18.0.0/15
  - id: forward6
    type: forward
    prefix: ip-
    network: 2001:db8::/32
zone:
  - domain: 18.198.in-addr.arpa
    file: $work/18.198.in-addr.arpa.zone
    module: mod-synthrecord/reverse4
  - domain: 19.198.in-addr.arpa
    file: $work/19.198.in-addr.arpa.zone
    module: mod-synthrecord/reverse4
  - domain: 8.b.d.0.1.0.0.2.ip6.arpa
    file: $work/8.b.d.0.1.0.0.2.ip6.arpa.zone
    module: mod-synthrecord/reverse6
  - domain: bench.example
    file: $work/bench.example.zone
    module: [mod-synthrecord/forward4, mod-synthrecord/forward6]
KNOT
/usr/sbin/knotd -c "$work/knot.conf" &
knot_pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

# Seconds a `dmarcflow run` takes (ENRICH=1: with [enrich]).
timed() {
    local db="$1"; shift
    local start end
    start=$(date +%s%N)
    if [ "${ENRICH:-0}" = 1 ]; then
        DMARCFLOW_ENRICH_MMDB="$work/asn.mmdb" DMARCFLOW_ENRICH_NAMESERVERS="127.0.0.1:$port" \
            "$bin/dmarcflow" run --db "$work/$db.db" "$@" 2>"$work/$db.log"
    else
        env -u DMARCFLOW_ENRICH_MMDB -u DMARCFLOW_ENRICH_NAMESERVERS \
            "$bin/dmarcflow" run --db "$work/$db.db" "$@" 2>"$work/$db.log"
    fi
    end=$(date +%s%N)
    echo "scale=3; ($end - $start) / 1000000000" | bc
}

off=$(timed off "$work/day1")
cold=$(ENRICH=1 timed cold "$work/day1")
off_both=$(timed off-both "$work/day1" "$work/day2")
warm_both=$(ENRICH=1 timed warm-both "$work/day1" "$work/day2")
off2=$(echo "$off_both - $off" | bc)
warm=$(echo "$warm_both - $cold" | bc)
# What the cold run stored: every record with its forward-confirmed PTR
# and its AS (a run whose lookups failed would be fast and wrong).
query() { DMARCFLOW_SQLITE_PATH="$work/cold.db" "$bin/dmarcflow" query "$1" | tail -1; }
records=$(query "SELECT count(*) FROM aggregate_records")
enriched=$(query "SELECT count(*) FROM aggregate_records WHERE source_ptr_confirmed = 1 AND source_asn > 0")
rate() { echo "scale=0; $emails / $1" | bc; }
echo
echo "| $emails emails | seconds | emails/s |"
echo "|---|---:|---:|"
echo "| enrichment off | $off | $(rate "$off") |"
echo "| enrichment on, cold cache | $cold | $(rate "$cold") |"
echo "| enrichment off, day 2 | $off2 | $(rate "$off2") |"
echo "| enrichment on, warm cache (day 2) | $warm | $(rate "$warm") |"
echo
echo "records stored by the cold run: $records, with a confirmed PTR and an AS: $enriched"
echo "cold / off: $(echo "scale=2; $off / $cold" | bc)"
echo "warm / off: $(echo "scale=2; $off2 / $warm" | bc) (target >= 0.8)"
