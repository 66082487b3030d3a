#!/usr/bin/env bash
# What alerts and the reports people read cost on a filled store, next to
# the summary `report` of the same store (the baseline: the daily tables
# the rules read too), in the same run: wall time and peak RSS of
#   report     `report --by result,source` of the busiest domain's month
#   alerts     `alerts --day LAST`: every rule for every domain, the last
#              week against the 23 days before (the first round: what
#              holds fires), then again (nothing changes)
#   html, pdf  `report --format html|pdf` of the busiest domain's month
# on N generated emails (default 20000: a month of reports over the
# generator's domains) in a fresh SQLite store. Prints a Markdown table.
#
#   benches/alerts.sh [EMAILS]
set -euo pipefail
cd "$(dirname "$0")/.."
emails="${1:-20000}"
unset DMARCFLOW_CLICKHOUSE_URL DMARCFLOW_KAFKA_BROKERS DMARCFLOW_CONFIG DMARCFLOW_ENRICH_DNS DMARCFLOW_ENRICH_SENDERS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q --bin dmarcflow -p dmarcflow
cargo build --release -q -p dmarcflow-benches --bin generate
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d /tmp/dmarcflow-alerts-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

"$bin/generate" emails "$work/emails" "$emails" >/dev/null
cat > "$work/dmarcflow.toml" <<TOML
[sqlite]
path = "$work/store.db"
[alerts]
window_days = 7
baseline_days = 23
TOML
export DMARCFLOW_CONFIG="$work/dmarcflow.toml"
"$bin/dmarcflow" run "$work/emails" 2>"$work/run.log" >/dev/null
records=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from aggregate_records').fetchone()[0])" "$work/store.db")
read -r first last domain < <(python3 - "$work/store.db" <<'PY'
import sqlite3, sys, datetime
db = sqlite3.connect(sys.argv[1])
lo, hi = db.execute("select min(date_begin), max(date_begin) from aggregate_reports").fetchone()
domain = db.execute("select policy_domain from aggregate_reports group by policy_domain order by count(*) desc limit 1").fetchone()[0]
day = lambda s: datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%d")
print(day(lo), day(hi), domain)
PY
)

# Wall seconds and peak RSS (MiB) of a command, its stdout to $work/out.
measure() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
        cat "$work/err" >&2
        return 1
    }
    read -r seconds kib <"$work/time"
    printf '%s %s' "$seconds" "$((kib / 1024))"
}

echo "$emails emails, $records aggregate records, $first to $last; busiest domain $domain"
echo
echo "| step | wall s | peak RSS MiB | what |"
echo "|---|---:|---:|---|"
read -r s m < <(measure "$bin/dmarcflow" report --domain "$domain" --from "$first" --to "$last" --by result,source; echo)
echo "| report (baseline) | $s | $m | $(wc -l <"$work/out") lines |"
read -r s m < <(measure "$bin/dmarcflow" alerts --day "$last"; echo)
echo "| alerts, first round | $s | $m | $(wc -l <"$work/out") transitions |"
read -r s m < <(measure "$bin/dmarcflow" alerts --day "$last"; echo)
echo "| alerts, again | $s | $m | $(wc -l <"$work/out") transitions |"
for format in html pdf; do
    read -r s m < <(measure "$bin/dmarcflow" report --domain "$domain" --from "$first" --to "$last" \
        --format "$format" --out "$work/report.$format"; echo)
    echo "| $format | $s | $m | $(stat -c %s "$work/report.$format") bytes |"
done
