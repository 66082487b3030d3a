"""The table of benches/posture.sh: throughput of both tools, then where
they disagree on the same zones.

    python3 compare.py WORK CHECKDMARC_VERSION DMARCFLOW_SECONDS CHECKDMARC_SECONDS
"""
import json
import os
import re
import sys
from collections import Counter

work, version, dfl_s, cdm_s = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
names = open(os.path.join(work, "domains.txt")).read().split()
variants = dict(zip(names, open(os.path.join(work, "variants.txt")).read().split()))

ours = {}
for line in open(os.path.join(work, "dmarcflow.jsonl")):
    line = line.strip()
    if line:
        p = json.loads(line)
        ours[p["domain"]] = p
try:
    theirs_list = json.load(open(os.path.join(work, "checkdmarc.json")))
except ValueError:
    theirs_list = []
if isinstance(theirs_list, dict):
    theirs_list = [theirs_list]
theirs = {t["domain"]: t for t in theirs_list}

err = open(os.path.join(work, "dmarcflow.err")).read()
m = re.search(r"(\d+) DNS queries", err)
queries = int(m.group(1)) if m else None


def rss(tool):
    try:
        return int(open(os.path.join(work, tool + ".rss")).read().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        return float("nan")


print("| tool | domains checked | seconds | domains/s | DNS queries per domain | peak RSS (MB) |")
print("|---|---|---|---|---|---|")
print("| dmarcflow check (16 at once) | %d | %.2f | %.0f | %s | %.0f |" % (
    len(ours), dfl_s, len(ours) / dfl_s if dfl_s else 0,
    "%.1f" % (queries / len(ours)) if queries and ours else "?", rss("dmarcflow")))
print("| checkdmarc %s (one at a time) | %d | %.2f | %.0f | (not reported) | %.0f |" % (
    version, len(theirs), cdm_s, len(theirs) / cdm_s if cdm_s else 0, rss("checkdmarc")))
print()

# SPF counts, where both give them.
same = differ = 0
differences = []
for d in names:
    o, t = ours.get(d), theirs.get(d)
    if not o or not t:
        continue
    spf = t.get("spf") or {}
    if "dns_lookups" not in spf:
        continue
    pair = ((o["spf"]["lookups"], spf.get("dns_lookups")),
            (o["spf"]["void_lookups"], spf.get("dns_void_lookups", 0)))
    if pair[0][0] == pair[0][1] and pair[1][0] == pair[1][1]:
        same += 1
    else:
        differ += 1
        differences.append((d, variants[d], pair))
print("SPF lookup and void lookup counts: %d domains the same, %d different" % (same, differ))
for d, v, pair in differences[:10]:
    print("  %s (%s): dmarcflow %s lookups, %s void; checkdmarc %s, %s" % (
        d, v, pair[0][0], pair[1][0], pair[0][1], pair[1][1]))
print()

# Every problem checkdmarc reports, by record kind, and whether dmarcflow
# has a finding of that kind for the domain.
kinds = {"spf": "spf.", "dmarc": "dmarc.", "mta_sts": "mta_sts.", "smtp_tls_reporting": "tlsrpt.",
         "bimi": "bimi.", "mx": "mx."}
reported, matched = Counter(), Counter()
unmatched = []
for d in names:
    o, t = ours.get(d), theirs.get(d)
    if not o or not t:
        continue
    codes = [f["code"] for f in o["findings"]]
    for kind, prefix in kinds.items():
        section = t.get(kind) or {}
        if not isinstance(section, dict):
            continue
        problems = []
        if section.get("error"):
            problems.append(str(section["error"]))
        problems += [str(w) for w in section.get("warnings") or []]
        if section.get("valid") is False and not problems:
            problems.append("invalid")
        for problem in problems:
            reported[kind] += 1
            if any(c.startswith(prefix) for c in codes):
                matched[kind] += 1
            else:
                unmatched.append((d, variants[d], kind, problem))
print("| record | problems checkdmarc reports | with a dmarcflow finding of that record |")
print("|---|---|---|")
for kind in kinds:
    print("| %s | %d | %d |" % (kind, reported[kind], matched[kind]))
print()
seen = set()
for d, v, kind, problem in unmatched:
    key = (v, kind, problem[:60])
    if key in seen:
        continue
    seen.add(key)
    print("  not matched: %s (%s) %s: %s" % (d, v, kind, problem[:160]))
# What dmarcflow finds that checkdmarc does not check at all.
extra = Counter(f["code"] for o in ours.values() for f in o["findings"]
                if f["code"].split(".")[0] in ("dkim",))
if extra:
    print()
    print("dmarcflow findings checkdmarc makes no check for: " +
          ", ".join("%s %d" % kv for kv in sorted(extra.items())))
