#!/usr/bin/env bash
# The cost of failure-report privacy: `dmarcflow run` over EMAILS generated
# failure report emails (default 20000; each returns a whole message) into
# a fresh SQLite file, once per mode, all in the same run: `clear` (the
# baseline), `redact`, `encrypt` to two age recipients and `encrypt` to two
# OpenPGP keys (gpg-made Ed25519/Curve25519). Reports/s (best of RUNS,
# default 3) and peak RSS for each, the store's size, and the ratio to
# clear.
#
#   benches/privacy.sh [EMAILS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
emails="${1:-20000}"
runs="${2:-3}"
unset DMARCFLOW_CLICKHOUSE_URL DMARCFLOW_KAFKA_BROKERS DMARCFLOW_CONFIG DMARCFLOW_PRIVACY_RECIPIENTS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q --bin dmarcflow -p dmarcflow
cargo build --release -q -p dmarcflow-benches --bin generate
bin="$(realpath "$CARGO_TARGET_DIR")/release"
work=$(mktemp -d /tmp/dmarcflow-privacy-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin/generate" failures "$work/emails" "$emails" >/dev/null

# Two owners of each kind of key.
for n in 1 2; do
    age-keygen -o "$work/age-$n.key" 2>"$work/age-$n.pub"
    home="$work/gnupg-$n"
    mkdir -m 700 "$home"
    gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase '' \
        --quick-gen-key "owner$n <owner$n@owner.example>" future-default default never 2>/dev/null
    gpg --homedir "$home" --batch --armor --export "owner$n@owner.example" > "$work/owner-$n.asc"
done
age_recipients="$(grep -o 'age1[a-z0-9]*' "$work/age-1.pub"),$(grep -o 'age1[a-z0-9]*' "$work/age-2.pub")"
pgp_recipients="$work/owner-1.asc,$work/owner-2.asc"

printf '%-16s %10s %12s %14s %10s\n' mode reports/s "vs clear" "peak RSS MB" "store MB"
baseline=
for mode in clear redact encrypt-age encrypt-openpgp; do
    case "$mode" in
        clear) env=(DMARCFLOW_PRIVACY_FAILURE_REPORTS=clear) ;;
        redact) env=(DMARCFLOW_PRIVACY_FAILURE_REPORTS=redact) ;;
        encrypt-age) env=(DMARCFLOW_PRIVACY_RECIPIENTS="$age_recipients") ;;
        encrypt-openpgp) env=(DMARCFLOW_PRIVACY_RECIPIENTS="$pgp_recipients") ;;
    esac
    best=0
    rss=0
    for _ in $(seq 1 "$runs"); do
        rm -rf "$work/store" && mkdir "$work/store"
        start=$(date +%s.%N)
        /usr/bin/time -f "%M" -o "$work/rss" env "${env[@]}" \
            "$bin/dmarcflow" run --db "$work/store/store.db" "$work/emails" >/dev/null 2>&1
        end=$(date +%s.%N)
        rate=$(echo "$emails / ($end - $start)" | bc)
        [ "$rate" -gt "$best" ] && best=$rate
        r=$(cat "$work/rss")
        [ "$r" -gt "$rss" ] && rss=$r
    done
    [ -z "$baseline" ] && baseline=$best
    size=$(du -sm "$work/store" | cut -f1)
    printf '%-16s %10d %11.2fx %14d %10d\n' "$mode" "$best" "$(echo "$best / $baseline" | bc -l)" $((rss / 1024)) "$size"
done
