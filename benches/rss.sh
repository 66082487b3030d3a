#!/usr/bin/env bash
# Peak memory of `dmarcflow parse` on a 1 GB aggregate report, plain and gzip,
# read from /usr/bin/time -v. Target: peak RSS under 100 MB.
#   benches/rss.sh [BYTES]      (default 1 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-1073741824}
cargo build --quiet --release -p dmarcflow -p dmarcflow-benches --bins
dir=${TMPDIR:-/tmp}/dmarcflow-rss-$bytes
mkdir -p "$dir"
[ -s "$dir/huge.xml" ] || ./target/release/generate huge "$dir/huge.xml" "$bytes"
[ -s "$dir/huge.xml.gz" ] || gzip -1 -c "$dir/huge.xml" > "$dir/huge.xml.gz"
printf '| input | size (MB) | records | peak RSS (MB) | wall (s) | MB/s of XML |\n|---|---|---|---|---|---|\n'
xml_mb=$(( $(stat -c %s "$dir/huge.xml") / 1048576 ))
# Records in the output, counted once in chunks (the output is one line of gigabytes).
records=$(./target/release/dmarcflow parse --no-progress "$dir/huge.xml.gz" | python3 -c '
import sys
needle, n, tail = b"\"source_ip\"", 0, b""
while chunk := sys.stdin.buffer.read(1 << 24):
    block = tail + chunk
    n += block.count(needle)
    tail = block[-(len(needle) - 1):]
    n -= tail.count(needle)
print(n + tail.count(needle))')
for f in huge.xml huge.xml.gz; do
  /usr/bin/time -v ./target/release/dmarcflow parse --no-progress "$dir/$f" > /dev/null 2> "$dir/time.txt"
  rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$dir/time.txt")
  wall=$(awk '/Elapsed \(wall clock\)/ {print $NF}' "$dir/time.txt" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  size_mb=$(( $(stat -c %s "$dir/$f") / 1048576 ))
  printf '| %s | %s | %s | %s | %s | %s |\n' "$f" "$size_mb" "$records" "$(( rss_kb / 1024 ))" "$wall" \
    "$(python3 -c "print(round($xml_mb/$wall))")"
done
