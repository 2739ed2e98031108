#!/usr/bin/env bash
# Dynamic updates: zonal, Knot DNS and BIND take the same stream of signed UPDATEs
# (TSIG hmac-sha256, each adding a new name), every one made durable (journal
# synced) before its reply, measured in one run.
#
#   benches/updates.sh [SECONDS_PER_RUN]        (default 10)
#
# 1. Updates per second with 1 client and with 8 clients (one update in flight per
#    client), and the server's CPU share, for each server.
# 2. Queries per server core on zonal, idle and while one client streams updates, at
#    200/s and as fast as it can (dnsperf and the updater on core 1, zonal on core 0,
#    one worker).
# 3. A 1-record update to a 1,000,000-record zone: latency and the server's memory
#    before and after 1,000 updates.
# Needs: knot, bind9, dnsperf, dig (apt-get install knot bind9 dnsperf bind9-dnsutils).
# Every server started here is stopped here.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
PORT=5396
ZONAL=127.0.7.1 KNOT=127.0.7.2 BIND=127.0.0.1 # named serves interface addresses only
TICKS=$(getconf CLK_TCK)
SECRET=$(head -c 32 /dev/urandom | base64)
KEY="hmac-sha256:bench:$SECRET"
export PATH="$PATH:/usr/sbin"

work=$(mktemp -d /tmp/zonal-updates.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT

for tool in knotd named dnsperf dig python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install knot bind9 dnsperf bind9-dnsutils)" >&2; exit 1; }
done
systemctl stop knot named >/dev/null 2>&1 || true

cargo build --release -q
LOAD=$(cargo bench --bench update_load --no-run 2>&1 | grep -o 'target/release/deps/update_load-[a-z0-9]*' | head -1)

mkdir -p "$work/zones" "$work/knot/db" "$work/named"
{
  echo '$ORIGIN bench.test.'
  echo '$TTL 3600'
  echo '@ SOA ns1 hostmaster 1 7200 900 1209600 300'
  echo '@ NS ns1'
  echo 'ns1 A 192.0.2.1'
  for i in $(seq 1 1000); do echo "h$i A 10.0.$((i / 256)).$((i % 256))"; done
} >"$work/zones/bench.test.zone"
cp "$work/zones/bench.test.zone" "$work/knot/bench.test.zone"
cp "$work/zones/bench.test.zone" "$work/named/bench.test.zone"
printf 'key "bench" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$SECRET" >"$work/bench.key"

source benches/common/proc.sh # tree, cpu_ticks, pin, stop_tree, rss_mib
wait_ready() { # addr zone
  for _ in $(seq 1 200); do
    dig +short +time=1 +tries=1 @"$1" -p $PORT "$2" SOA 2>/dev/null | grep -q hostmaster && return 0
    sleep 0.1
  done
  echo "server at $1 did not come up" >&2; tail -5 "$work"/*.log >&2; return 1
}

start_zonal() { # zone_dir addr
  target/release/zonal --listen "$2:$PORT" --zone-dir "$1" --workers 1 --tsig-key "$work/bench.key" \
    --allow-update bench --state-dir "$work/state-$RANDOM" --no-recursion >/dev/null 2>"$work/zonal.log" &
  echo $!
}
start_knot() {
  cat >"$work/knot/knot.conf" <<EOF
server:
    listen: $KNOT@$PORT
    rundir: $work/knot
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
key:
  - id: bench
    algorithm: hmac-sha256
    secret: $SECRET
acl:
  - id: update
    key: bench
    action: update
database:
    storage: $work/knot/db
zone:
  - domain: bench.test
    storage: $work/knot
    file: bench.test.zone
    acl: update
    zonefile-sync: -1
    journal-content: changes
log:
  - target: stderr
    any: error
EOF
  knotd -c "$work/knot/knot.conf" >/dev/null 2>"$work/knot.log" &
  echo $!
}
start_bind() {
  cat >"$work/named/named.conf" <<EOF
options {
    directory "$work/named";
    listen-on port $PORT { $BIND; };
    listen-on-v6 { none; };
    pid-file "$work/named/named.pid";
    recursion no;
    dnssec-validation no;
    notify no;
};
controls { };
key "bench" { algorithm hmac-sha256; secret "$SECRET"; };
zone "bench.test" {
    type primary;
    file "$work/named/bench.test.zone";
    update-policy { grant bench zonesub ANY; };
};
EOF
  named -g -n 1 -c "$work/named/named.conf" >/dev/null 2>"$work/named.log" &
  echo $!
}

echo "== updates per second (signed, each synced to disk before its reply), ${DUR}s per run, $(nproc) cores"
printf "%-6s %8s %14s %10s %16s\n" server clients "updates/s" "cpu" "p50/p99 us"
for server in ${SERVERS:-zonal knot bind}; do
  case $server in
    zonal) addr=$ZONAL; pid=$(start_zonal "$work/zones" $ZONAL) ;;
    knot) addr=$KNOT; pid=$(start_knot) ;;
    bind) addr=$BIND; pid=$(start_bind) ;;
  esac
  pids+=("$pid")
  wait_ready "$addr" bench.test
  for clients in 1 8; do
    c0=$(cpu_ticks "$pid")
    out=$("$LOAD" "$addr:$PORT" bench.test "$KEY" "$clients" "$DUR" "$server$clients")
    c1=$(cpu_ticks "$pid")
    rate=$(echo "$out" | awk '{print $2}')
    lat=$(echo "$out" | awk '{print $11 "/" $13}')
    bad=$(echo "$out" | awk '{print $6 + $8}')
    share=$(awk -v a="$c0" -v b="$c1" -v t="$TICKS" -v d="$DUR" 'BEGIN {printf "%.2f", (b - a) / t / d}')
    printf "%-6s %8s %14s %10s %16s\n" "$server" "$clients" "$rate" "$share" "$lat"
    [ "$bad" = 0 ] || { echo "  ($server: $bad updates refused or timed out: $out)"; tail -3 "$work/$server.log" | sed "s/^/    /"; }
    echo "$server $clients $rate" >>"$work/results"
  done
  stop_tree "$pid"
done
[ -f "$work/results" ] && awk '{r[$1" "$2] = $3} END {for (c = 1; c <= 8; c *= 8) printf "zonal / knot with %d client(s): %.2f, zonal / bind: %.2f\n", c, r["zonal "c] / r["knot "c], r["zonal "c] / r["bind "c]}' "$work/results"

echo
echo "== queries per server core on zonal: idle, and while updates stream in (zonal on core 0)"
python3 - "$work/queries.txt" <<'EOF'
import random, sys
rng = random.Random(7)
with open(sys.argv[1], "w") as f:
    for _ in range(50000):
        f.write(f"h{rng.randrange(1, 1001)}.bench.test. A\n")
EOF
pid=$(start_zonal "$work/zones" $ZONAL); pids+=("$pid")
wait_ready $ZONAL bench.test
pin "$pid" 0
measure_queries() { # label
  c0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 dnsperf -s $ZONAL -p $PORT -d "$work/queries.txt" -l "$DUR" -c 20 -T 1 -q 500 2>&1)
  c1=$(cpu_ticks "$pid")
  qps=$(echo "$out" | awk '/Queries per second/ {printf "%d", $4}')
  share=$(awk -v a="$c0" -v b="$c1" -v t="$TICKS" -v d="$DUR" 'BEGIN {printf "%.3f", (b - a) / t / d}')
  per_core=$(awk -v q="$qps" -v s="$share" 'BEGIN {printf "%d", q / s}')
  printf "%-26s q/s %8s  cpu %6s  q/s per core %8s\n" "$1" "$qps" "$share" "$per_core"
  echo "${1// /_} $per_core" >>"$work/query-results"
}
measure_queries idle
for rate in 200 0; do # a steady 200 updates/s, then as fast as one client gets answers
  label="while $rate updates/s"; [ "$rate" = 0 ] && label="while updates flat out"
  taskset -c 1 "$LOAD" "$ZONAL:$PORT" bench.test "$KEY" 1 $((DUR + 2)) "stream$rate" $([ "$rate" = 0 ] || echo "$rate") >"$work/stream.out" &
  loader=$!
  sleep 1
  measure_queries "$label"
  wait $loader || true
  echo "  (updates meanwhile: $(cat "$work/stream.out"))"
done
awk '{r[$1] = $2} END {for (k in r) if (k != "idle") printf "q/s per core %s / idle: %.2f\n", k, r[k] / r["idle"]}' "$work/query-results"
stop_tree "$pid"

echo
echo "== a 1-record update to a 1,000,000-record zone"
mkdir -p "$work/big"
python3 benches/gen_zone.py "$work/big" 794000 >/dev/null
rm -f "$work/big/queries.txt"
pid=$(start_zonal "$work/big" $ZONAL); pids+=("$pid")
wait_ready $ZONAL bench.example
before=$(rss_mib "$pid")
out=$("$LOAD" "$ZONAL:$PORT" bench.example "$KEY" 1 5 big)
after=$(rss_mib "$pid")
echo "zonal: $out"
echo "zonal: memory ${before} MiB before, ${after} MiB after $(echo "$out" | awk '{print $4}') updates"
