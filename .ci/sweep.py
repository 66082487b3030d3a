#!/usr/bin/env python3
"""Removes the stale build outputs of earlier CI runs from a kept target
directory: of the workspace's own crates and of every test and binary
executable, only the newest build of each name stays (each commit builds
them anew under a new hash; without this the directory grew by about 1.5 GB
a run, and filled the disk after a day's runs). Third-party crates are left
alone (their builds do not change between commits). Cargo rebuilds whatever
it finds missing.

    python3 .ci/sweep.py TARGET_DIR
"""
import collections
import os
import re
import sys

deps = os.path.join(sys.argv[1], "debug", "deps")
if not os.path.isdir(deps):
    sys.exit(0)
groups = collections.defaultdict(list)
for name in os.listdir(deps):
    m = re.match(r"^(.*)-([0-9a-f]{16})(\..*)?$", name)
    if not m:
        continue
    stem, ext = m.group(1), m.group(3) or ""
    if not (stem.startswith("dmarcflow") or stem.startswith("libdmarcflow") or ext == ""):
        continue
    path = os.path.join(deps, name)
    groups[(stem, ext)].append((os.stat(path).st_mtime, path))
freed = 0
for builds in groups.values():
    for _, path in sorted(builds, reverse=True)[1:]:
        freed += os.stat(path).st_size
        os.remove(path)
print("sweep: %.1f GB of stale builds removed" % (freed / 1e9))
