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

# SPF counts, where both give them; over the limit, checkdmarc stops
# counting at 11, so two counts over 10 agree.
same = over = differ = 0
differences = []
for d in names:
    o, t = ours.get(d), theirs.get(d)
    if not o or not t:
        continue
    spf = t.get("spf") or {}
    if "dns_lookups" not in spf:
        continue
    # Over a limit, checkdmarc stops counting and says the count in its
    # error ("requires 11/10 maximum DNS lookups").
    lookups, void = spf.get("dns_lookups"), spf.get("void_dns_lookups", 0)
    error = str(spf.get("error") or "")
    m = re.search(r"requires (\d+)/10 maximum DNS lookups", error)
    if m:
        lookups = int(m.group(1))
    m = re.search(r"(\d+)/2 maximum void DNS lookups", error)
    if m:
        void = int(m.group(1))
    pair = ((o["spf"]["lookups"], lookups), (o["spf"]["void_lookups"], void))
    if pair[0][0] == pair[0][1] and pair[1][0] == pair[1][1]:
        same += 1
    elif pair[0][0] > 10 and (pair[0][1] or 0) > 10 and pair[1][0] == pair[1][1]:
        over += 1
    else:
        differ += 1
        differences.append((d, variants[d], pair))
print("SPF lookup and void lookup counts (where checkdmarc gives them): %d domains the same, "
      "%d both over the limit of 10, %d different" % (same, over, differ))
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
# What checkdmarc reports that dmarcflow does not check.
others = Counter()
for t in theirs.values():
    if t.get("dnssec") is False:
        others["dnssec: not signed"] += 1
    for kind in ("ns", "soa"):
        section = t.get(kind) or {}
        if isinstance(section, dict):
            for w in section.get("warnings") or []:
                others["%s: %s" % (kind, str(w)[:60])] += 1
            if section.get("error"):
                others["%s: %s" % (kind, str(section["error"])[:60])] += 1
if others:
    print()
    print("checkdmarc reports dmarcflow does not check (not mail records):")
    for k, v in others.most_common(8):
        print("  %s: %d domains" % (k, v))
# What dmarcflow finds that checkdmarc does not check at all.
extra = Counter(f["code"] for o in ours.values() for f in o["findings"]
                if f["code"].split(".")[0] in ("dkim",) or f["code"] in ("spf.ptr", "spf.all_pass"))
if extra:
    print()
    print("dmarcflow findings without a checkdmarc counterpart on these zones: " +
          ", ".join("%s %d" % kv for kv in sorted(extra.items())))
