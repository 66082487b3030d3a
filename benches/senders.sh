#!/usr/bin/env bash
# Who sends: the share of sources and of messages each tool names, on the
# same inputs with the same network database, next to parsedmarc 11.x.
#
#   benches/senders.sh [EMAILS]       (default 500 generated emails)
#
# parsedmarc is installed in a throwaway virtualenv from PyPI and run
# offline (no DNS); its wheel ships IPinfo Lite's MMDB, which dmarcflow
# reads too (`[enrich] mmdb`, DNS off) for this comparison only: the file
# is never copied into this repository. Datasets:
#   corpus     every aggregate report of the shared corpus (../shared/corpus)
#   generated  EMAILS generated report emails (benchmark address ranges: no
#              network database knows them; only what the records carry,
#              their DKIM and SPF domains, can name a sender)
# A source is an address; named: the tool gave it a sender name. Messages
# are weighted by each record's count. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
emails="${1:-500}"
unset DMARCFLOW_CLICKHOUSE_URL DMARCFLOW_KAFKA_BROKERS DMARCFLOW_CONFIG DMARCFLOW_ENRICH_SENDERS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q --bin dmarcflow -p dmarcflow
cargo build --release -q -p dmarcflow-benches --bin generate
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d /tmp/dmarcflow-senders-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

venv="${PARSEDMARC_VENV:-/tmp/dmarcflow-parsedmarc-venv}"
[ -x "$venv/bin/parsedmarc" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "parsedmarc>=11,<12"; }
version=$("$venv/bin/pip" show parsedmarc | sed -n 's/^Version: //p')
mmdb=$(find "$venv" -name ipinfo_lite.mmdb | head -1)
[ -f "$mmdb" ] || { echo "no ipinfo_lite.mmdb in parsedmarc's wheel" >&2; exit 1; }

mkdir -p "$work/corpus" "$work/generated"
find ../shared/corpus -path '*aggregate*' -type f | while read -r f; do
    cp "$f" "$work/corpus/$(echo "$f" | md5sum | cut -c1-12)-$(basename "$f" | tr -c 'A-Za-z0-9._\n-' '_')"
done
"$bin/generate" emails "$work/generated" "$emails" 7 >/dev/null

echo "| dataset | tool | sources named | messages named |"
echo "|---|---|---|---|"
for set in corpus generated; do
    "$venv/bin/parsedmarc" --offline -o "$work/$set-parsedmarc" "$work/$set"/* >/dev/null 2>&1 || true
    DMARCFLOW_ENRICH_MMDB="$mmdb" DMARCFLOW_ENRICH_DNS=false \
        "$bin/dmarcflow" parse --no-progress "$work/$set" > "$work/$set-dmarcflow.jsonl" 2>/dev/null || true
    python3 - "$set" "$version" "$work/$set-parsedmarc/aggregate.json" "$work/$set-dmarcflow.jsonl" <<'PY'
import json, sys
dataset, version, pdm, dfl = sys.argv[1:5]

def share(records):
    # records: (ip, count, named); a source counts named if any of its
    # records is.
    sources, named_sources = set(), set()
    messages = named_messages = 0
    for ip, count, named in records:
        sources.add(ip)
        messages += count
        if named:
            named_sources.add(ip)
            named_messages += count
    pct = lambda a, b: f"{a}/{b} ({100.0 * a / b:.1f}%)" if b else "0/0"
    return pct(len(named_sources), len(sources)), pct(named_messages, messages), named_sources

rows = []
try:
    reports = json.load(open(pdm))
except (OSError, ValueError):
    reports = []
for r in reports:
    for rec in r.get("records", []):
        src = rec.get("source", {})
        rows.append((src.get("ip_address"), rec.get("count", 0), bool(src.get("name"))))
p_sources, p_messages, p_named = share(rows)
p_all = set(ip for ip, _, _ in rows)

rows = []
for line in open(dfl):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("kind") != "aggregate":
        continue
    for rec in r.get("records", []):
        src = rec.get("source") or {}
        rows.append((rec.get("source_ip"), rec.get("count", 0), bool(src.get("name"))))
d_sources, d_messages, d_named = share(rows)
print(f"| {dataset} | parsedmarc {version} | {p_sources} | {p_messages} |")
print(f"| {dataset} | dmarcflow | {d_sources} | {d_messages} |")
both = set(ip for ip, _, _ in rows) & (p_named | set(ip for ip in p_all))
print(f"| {dataset} | on the {len(both)} sources both parsed: parsedmarc names {len(p_named & both)}, dmarcflow {len(d_named & both)} | | |")
missed = sorted(p_named - d_named)
if missed:
    print(f"| {dataset} | named by parsedmarc only | {len(missed)}: {', '.join(missed[:10])} | |")
PY
done
