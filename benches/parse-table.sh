#!/usr/bin/env bash
# Runs the parse benchmarks and prints the table of docs/benchmarks.md: reports/s and MB/s of
# dmarcflow next to mail-auth and the decode-only floor, measured in this run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p dmarcflow-benches --bench parse "$@"
python3 - <<'PY'
import json, os
base = "target/criterion"
datasets = json.load(open(os.path.join(base, "datasets.json")))
def mean_s(group, fn):
    for path in (os.path.join(base, group, fn, "new", "estimates.json"),
                 os.path.join(base, group, fn.replace("/", "_"), "new", "estimates.json")):
        if os.path.exists(path):
            return json.load(open(path))["mean"]["point_estimate"] / 1e9
    return None
rows = [("corpus_emails", ["dmarcflow", "mail_auth", "floor"]),
        ("generated_emails", ["dmarcflow", "mail_auth", "floor"]),
        ("million_records", ["dmarcflow/in_memory", "dmarcflow/stream", "mail_auth", "floor"])]
print("| dataset | parser | reports/s | MB/s (input) | vs mail-auth | vs floor |")
print("|---|---|---|---|---|---|")
for group, fns in rows:
    if group not in datasets:
        continue
    d = datasets[group]
    times = {f: mean_s(group, f) for f in fns}
    for f in fns:
        t = times[f]
        if t is None:
            continue
        ma, fl = times.get("mail_auth"), times.get("floor")
        print(f"| {group} ({d['reports']} reports, {d['bytes']/1e6:.1f} MB) | {f} | {d['reports']/t:,.0f} | {d['bytes']/t/1e6:,.1f} | "
              f"{(ma/t if ma else 0):.1f}x | {(fl/t if fl else 0):.2f}x |")
PY
