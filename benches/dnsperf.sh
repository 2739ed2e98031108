#!/usr/bin/env bash
# Load test: zonal, Knot DNS and NSD serve one generated zone (~100,000 names) on
# loopback and are driven by dnsperf in the same run.
#
#   benches/dnsperf.sh [SECONDS_PER_RUN]        (default 10)
#   ZONAL_BEFORE=path/to/old/zonal benches/dnsperf.sh   (also an older build, "before")
#   ORDER="zonal knot nsd before" ...                     (the order servers are measured in)
#   ZONAL_ARGS="--metrics 127.0.0.1:9153" ...             (more flags for the current build)
#   ZONAL_BIN=path/to/zonal ...                           (the current build, not built here)
#
# Two setups: the server pinned to core 0 with one worker and dnsperf on core 1;
# then both unpinned with two workers. For each server: queries/s, the server's CPU
# share (from /proc, all its threads and processes), q/s per server core (q/s ÷ CPU
# share — dnsperf saturates near 150k q/s here, so this is the figure that ranks
# servers), and latency percentiles at a fixed 20k q/s. Then zonal ÷ best peer.
# Needs: dnsperf, knot, nsd (apt-get install dnsperf knot nsd), python3, cargo.
# Every run is bounded in time; every server started here is stopped here.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
PORT=5399
ZONAL_ADDR=127.0.1.1 KNOT_ADDR=127.0.1.2 NSD_ADDR=127.0.1.3 BEFORE_ADDR=127.0.1.4
BEFORE=${ZONAL_BEFORE:-}
TICKS=$(getconf CLK_TCK)

work=$(mktemp -d /tmp/zonal-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT

for tool in dnsperf knotd nsd python3; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool (apt-get install dnsperf knot nsd)" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin"
systemctl stop knot nsd >/dev/null 2>&1 || true

python3 benches/gen_zone.py "$work/zones" >/dev/null
# ZONAL_BIN: measure this binary as the current build instead of building one.
ZONAL_BIN=${ZONAL_BIN:-}
if [ -z "$ZONAL_BIN" ]; then
  cargo build --release -q
  ZONAL_BIN=target/release/zonal
fi
ZONE=bench.example

# --- servers -----------------------------------------------------------------
start_zonal() { # workers [binary address]
  # Authoritative only, as Knot and NSD are: dnsperf sends RD=1, and with the resolver
  # on, referrals would be followed (builds before the resolver do not know the flag).
  local binary=${2:-$ZONAL_BIN} extra=()
  "$binary" --help 2>/dev/null | grep -q -- --no-recursion && extra+=(--no-recursion)
  # ZONAL_ARGS: more flags for this build only (say, --metrics 127.0.0.1:9153).
  [ -z "${2:-}" ] && [ -n "${ZONAL_ARGS:-}" ] && read -r -a more <<<"$ZONAL_ARGS" && extra+=("${more[@]}")
  "$binary" --listen "${3:-$ZONAL_ADDR}:$PORT" --zone-dir "$work/zones" --workers "$1" "${extra[@]}" >/dev/null 2>"$work/zonal.log" &
  echo $!
}
start_knot() { # workers
  mkdir -p "$work/knot"
  cat >"$work/knot/knot.conf" <<EOF
server:
    listen: $KNOT_ADDR@$PORT
    rundir: $work/knot
    udp-workers: $1
    tcp-workers: 1
    background-workers: 1
database:
    storage: $work/knot/db
zone:
  - domain: $ZONE
    storage: $work/zones
    file: $ZONE.zone
    zonefile-sync: -1
    journal-content: none
log:
  - target: stderr
    any: error
EOF
  knotd -c "$work/knot/knot.conf" >/dev/null 2>"$work/knot.log" &
  echo $!
}
start_nsd() { # workers
  mkdir -p "$work/nsd"
  cat >"$work/nsd/nsd.conf" <<EOF
server:
    ip-address: $NSD_ADDR@$PORT
    server-count: $1
    username: ""
    zonesdir: "$work/zones"
    database: ""
    pidfile: "$work/nsd/nsd.pid"
    xfrdfile: "$work/nsd/xfrd.state"
    zonelistfile: "$work/nsd/zone.list"
    logfile: "$work/nsd/nsd.log"
    rrl-ratelimit: 0
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: $ZONE
    zonefile: $ZONE.zone
EOF
  nsd -d -c "$work/nsd/nsd.conf" >/dev/null 2>"$work/nsd.log" &
  echo $!
}

wait_ready() { # addr
  for _ in $(seq 1 100); do
    dig +short +time=1 +tries=1 @"$1" -p $PORT $ZONE SOA 2>/dev/null | grep -q hostmaster && return 0
    sleep 0.2
  done
  echo "server at $1 did not come up" >&2; return 1
}

source benches/common/proc.sh # tree, cpu_ticks, pin, stop_tree

# --- one measurement -------------------------------------------------------------
measure() { # name addr pid dnsperf_prefix
  local name=$1 addr=$2 pid=$3 prefix=$4 out c0 c1 qps share
  $prefix dnsperf -s "$addr" -p $PORT -d "$work/zones/queries.txt" -l 2 -c 20 -T 1 -q 500 >/dev/null 2>&1 || true
  c0=$(cpu_ticks "$pid")
  out=$($prefix dnsperf -s "$addr" -p $PORT -d "$work/zones/queries.txt" -l "$DUR" -c 20 -T 1 -q 500 2>&1)
  c1=$(cpu_ticks "$pid")
  qps=$(echo "$out" | awk '/Queries per second/ {printf "%d", $4}')
  lost=$(echo "$out" | awk '/Queries lost/ {print $4}')
  share=$(awk -v a="$c0" -v b="$c1" -v t="$TICKS" -v d="$DUR" 'BEGIN {printf "%.3f", (b - a) / t / d}')
  if [ "$c1" -le "$c0" ]; then
    echo "warning: no CPU time read for $name (pid $pid): its q/s per core below is meaningless; run again" >&2
  fi
  per_core=$(awk -v q="$qps" -v s="$share" 'BEGIN {printf "%d", (s > 0 ? q / s : 0)}')
  # Latency at a fixed rate, from dnsperf's per-query lines.
  lat=$($prefix dnsperf -s "$addr" -p $PORT -d "$work/zones/queries.txt" -l 5 -c 20 -T 1 -Q 20000 -v 2>/dev/null |
    awk '/^> / {print $NF * 1000000}' | sort -n |
    awk '{v[NR] = $1} END {if (NR) printf "%d/%d/%d", v[int(NR*0.5)], v[int(NR*0.99)], v[int(NR*0.999)]; else printf "-"}')
  # Fixed-rate CPU: what the server spends to serve 20k q/s.
  c0=$(cpu_ticks "$pid")
  $prefix dnsperf -s "$addr" -p $PORT -d "$work/zones/queries.txt" -l 5 -c 20 -T 1 -Q 20000 >/dev/null 2>&1
  c1=$(cpu_ticks "$pid")
  cpu20k=$(awk -v a="$c0" -v b="$c1" -v t="$TICKS" 'BEGIN {printf "%.1f", (b - a) / t / 5 * 100}')
  printf "%-6s %10s %9s %12s %8s %16s %12s\n" "$name" "$qps" "$share" "$per_core" "$lost" "$lat" "$cpu20k%"
  echo "$name $qps $per_core $cpu20k" >>"$work/results"
}

run_setup() { # title workers server_cpus dnsperf_cpus
  local title=$1 workers=$2 scpu=$3 dcpu=$4 prefix=""
  [ -n "$dcpu" ] && prefix="taskset -c $dcpu"
  echo
  echo "== $title"
  printf "%-6s %10s %9s %12s %8s %16s %12s\n" server "q/s" "cpu" "q/s/core" lost "p50/p99/p999 us" "cpu@20k"
  : >"$work/results"
  local servers="zonal knot nsd"
  [ -n "$BEFORE" ] && servers="${ORDER:-before zonal knot nsd}"
  for server in $servers; do
    local addr pid
    case $server in
      before) addr=$BEFORE_ADDR; pid=$(start_zonal "$workers" "$BEFORE" "$BEFORE_ADDR") ;;
      zonal) addr=$ZONAL_ADDR; pid=$(start_zonal "$workers") ;;
      knot) addr=$KNOT_ADDR; pid=$(start_knot "$workers") ;;
      nsd) addr=$NSD_ADDR; pid=$(start_nsd "$workers") ;;
    esac
    pids+=("$pid")
    wait_ready "$addr"
    kill -0 "$pid" 2>/dev/null || { echo "$server exited at start (port $PORT in use?)" >&2; exit 1; }
    [ -n "$scpu" ] && pin "$pid" "$scpu"
    measure "$server" "$addr" "$pid" "$prefix"
    stop_tree "$pid"
    sleep 0.5
  done
  awk '{q[$1] = $2; c[$1] = $3; f[$1] = $4}
       END {bq = (q["knot"] > q["nsd"] ? q["knot"] : q["nsd"]); bc = (c["knot"] > c["nsd"] ? c["knot"] : c["nsd"]);
            bf = (f["knot"] < f["nsd"] ? f["knot"] : f["nsd"]);
            printf "zonal / best peer: q/s %.2f, q/s per core %.2f, cpu@20k %.2f (lower is better)\n",
              q["zonal"] / bq, c["zonal"] / bc, f["zonal"] / bf;
            if (q["before"]) printf "zonal / before: q/s %.2f, q/s per core %.2f, cpu@20k %.2f\n",
              q["zonal"] / q["before"], c["zonal"] / c["before"], f["zonal"] / f["before"]}' "$work/results"
}

echo "zone: $(grep -c . "$work/zones/bench.example.zone") lines, queries: $(wc -l <"$work/zones/queries.txt"), ${DUR}s per run, $(nproc) cores"
run_setup "pinned: server on core 0 (1 worker), dnsperf on core 1" 1 0 1
run_setup "unpinned: 2 workers, dnsperf anywhere" 2 "" ""
