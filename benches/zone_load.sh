#!/usr/bin/env bash
# Zone load: time and memory for zonal and Knot DNS to load the same zone of about
# 1,000,000 records, measured in one run. Time is from process start until the zone
# answers a query; memory is the server's resident set size once it answers.
#
#   benches/zone_load.sh [NAMES]     (default 794000 names ≈ 1,000,000 records)
#   ZONAL_BEFORE=path/to/old/zonal benches/zone_load.sh   (also an older build, "before")
#
# Needs knot and dig (apt-get install knot bind9-dnsutils). Servers are stopped here.
set -euo pipefail
cd "$(dirname "$0")/.."
NAMES=${1:-794000}
PORT=5398
work=$(mktemp -d /tmp/zonal-load.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT
export PATH="$PATH:/usr/sbin"

python3 benches/gen_zone.py "$work/zones" "$NAMES" >/dev/null
rm -f "$work/zones/queries.txt"
cargo build --release -q
records=$(grep -vc '^\$' "$work/zones/bench.example.zone")

now_ms() { date +%s%3N; }
wait_answer() { # addr pid
  for _ in $(seq 1 6000); do
    dig +short +time=1 +tries=1 @"$1" -p $PORT bench.example SOA 2>/dev/null | grep -q hostmaster && return 0
    kill -0 "$2" 2>/dev/null || { echo "server exited" >&2; return 1; }
    sleep 0.01
  done
  return 1
}
source benches/common/proc.sh # rss_mib

report() { # name start_ms pid
  local ms=$(( $(now_ms) - $2 ))
  printf "%-6s %8.2f s %8s MiB\n" "$1" "$(awk -v m="$ms" 'BEGIN {print m / 1000}')" "$(rss_mib "$3")"
}

echo "zone: $records records"
printf "%-6s %10s %12s\n" server "load time" "memory (RSS)"

load_zonal() { # name binary address
  start=$(now_ms)
  "$2" --listen "$3:$PORT" --zone-dir "$work/zones" --workers 1 >/dev/null 2>&1 &
  pid=$!; pids+=("$pid")
  wait_answer "$3" "$pid"
  report "$1" "$start" "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
[ -n "${ZONAL_BEFORE:-}" ] && load_zonal before "$ZONAL_BEFORE" 127.0.2.3
load_zonal zonal target/release/zonal 127.0.2.1

mkdir -p "$work/knot"
cat >"$work/knot/knot.conf" <<CONF
server:
    listen: 127.0.2.2@$PORT
    rundir: $work/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: $work/knot/db
zone:
  - domain: bench.example
    storage: $work/zones
    file: bench.example.zone
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
log:
  - target: stderr
    any: error
CONF
start=$(now_ms)
knotd -c "$work/knot/knot.conf" >/dev/null 2>&1 &
pid=$!; pids+=("$pid")
wait_answer 127.0.2.2 "$pid"
report knot "$start" "$pid"
