#!/usr/bin/env bash
# Zone transfers out: zonal and Knot DNS, each the primary of the same zone of about
# 1,000,000 records, measured in one run.
#
#   benches/transfer.sh [NAMES [UPDATES]]   (default 794000 names ≈ 1,000,000 records, 1000 updates)
#   REPEAT=5 benches/transfer.sh            (transfers per measure, median reported; default 3)
#   SERVERS="zonal" benches/transfer.sh     (one server only)
#
# 1. AXFR of the whole zone, pulled by benches/transfer_pull.rs (a client that counts
#    and keeps nothing, so the time is the server's; kdig would spend more on
#    printing records than the server on sending them): client wall time, time to
#    the first message, the server's CPU time for the transfer (all its threads,
#    /proc/PID/task/*/schedstat, ns), its resident memory before and its peak during
#    the transfer (VmHWM, reset through /proc/PID/clear_refs before each transfer).
# 1b. The same AXFR taken by a Knot DNS secondary (on core 1, started with no copy):
#    time from its start until it answers with the zone, the primary's CPU time
#    meanwhile, the secondary's CPU time and peak resident memory. This times the pair: Knot
#    building its copy costs more than either primary spends sending it.
# 2. IXFR after UPDATES signed dynamic updates (TSIG hmac-sha256, nsupdate, one at a
#    time, each replacing the A record of one existing name): the form of the reply
#    (ixfr: differences; axfr: the whole zone instead), records, bytes, wall time,
#    server CPU time.
# The server is pinned to core 0, the client to core 1. Knot keeps its changes in
# its journal (journal-content: changes, journal-max-depth above UPDATES: its
# default of 20 changes would turn the IXFR into an AXFR).
# Needs knot, dig and nsupdate (apt-get install knot bind9-dnsutils). Every server
# started here is stopped here; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
NAMES=${1:-794000}
UPDATES=${2:-1000}
REPEAT=${REPEAT:-3}
PORT=5395
ZONAL=127.0.9.1 KNOT=127.0.9.2 SECONDARY=127.0.9.3
ZONE=bench.example
SECRET=$(head -c 32 /dev/urandom | base64)
export PATH="$PATH:/usr/sbin"

work=$(mktemp -d /tmp/zonal-transfer.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT

for tool in knotd dig nsupdate python3 taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install knot bind9-dnsutils)" >&2; exit 1; }
done
systemctl stop knot >/dev/null 2>&1 || true

cargo build --release -q
PULL=$(cargo bench --bench transfer_pull --no-run 2>&1 | grep -o 'target/release/deps/transfer_pull-[a-z0-9]*' | head -1)

python3 benches/gen_zone.py "$work/zones" "$NAMES" >/dev/null
rm -f "$work/zones/queries.txt"
mkdir -p "$work/knot/db" "$work/zonal-state"
cp "$work/zones/$ZONE.zone" "$work/knot/$ZONE.zone"
records=$(grep -vc '^\$' "$work/zones/$ZONE.zone")
printf 'key "bench" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$SECRET" >"$work/bench.key"

source benches/common/proc.sh # tree, pin, stop_tree, rss_mib

# CPU time of the server's threads, ns (schedstat: finer than the 10 ms ticks of
# /proc/PID/stat, which an IXFR of a few thousand records does not reach).
cpu_ns() {
  local p
  for p in $(tree "$1"); do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done | awk '{s += $1} END {printf "%.0f", s}'
}
hwm_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# Resets the peak resident set size (VmHWM) to the current one, for every process.
reset_hwm() { for p in $(tree "$1"); do echo 5 >"/proc/$p/clear_refs"; done; }
serial_of() { dig +short +time=2 +tries=1 @"$1" -p $PORT $ZONE SOA | awk '{print $3}'; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

wait_ready() { # addr pid
  for _ in $(seq 1 1200); do
    dig +short +time=1 +tries=1 @"$1" -p $PORT $ZONE SOA 2>/dev/null | grep -q hostmaster && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "server at $1 did not come up" >&2; tail -5 "$work"/*.log >&2; return 1
}

start_zonal() {
  target/release/zonal --listen "$ZONAL:$PORT" --zone-dir "$work/zones" --workers 1 --no-recursion \
    --allow-transfer 127.0.0.0/8 --tsig-key "$work/bench.key" --allow-update bench \
    --state-dir "$work/zonal-state" >/dev/null 2>"$work/zonal.log" &
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
  - id: transfer
    address: 127.0.0.0/8
    action: transfer
database:
    storage: $work/knot/db
zone:
  - domain: $ZONE
    storage: $work/knot
    file: $ZONE.zone
    acl: [update, transfer]
    zonefile-sync: -1
    journal-content: changes
    journal-max-depth: $((UPDATES + 100))
    journal-max-usage: 2G
    semantic-checks: off
log:
  - target: stderr
    any: error
EOF
  knotd -c "$work/knot/knot.conf" >/dev/null 2>"$work/knot.log" &
  echo $!
}

# A Knot DNS secondary takes the zone from the primary, REPEAT times, each from
# nothing; one line per copy in $work/<server>.secondary.
secondary() { # server pid addr
  local i dir sec c0 c1 t0 t1
  for i in $(seq 1 "$REPEAT"); do
    dir="$work/secondary-$1-$i"
    mkdir -p "$dir"
    cat >"$dir/knot.conf" <<EOF
server:
    listen: $SECONDARY@$PORT
    rundir: $dir
    background-workers: 1
remote:
  - id: primary
    address: $3@$PORT
database:
    storage: $dir/db
zone:
  - domain: $ZONE
    storage: $dir
    master: primary
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
log:
  - target: stderr
    any: error
EOF
    c0=$(cpu_ns "$2")
    t0=$(date +%s%3N)
    taskset -c 1 knotd -c "$dir/knot.conf" >/dev/null 2>"$work/secondary.log" &
    sec=$!
    pids+=("$sec")
    wait_ready "$SECONDARY" "$sec"
    t1=$(date +%s%3N)
    c1=$(cpu_ns "$2")
    echo "ms $((t1 - t0)) primary_cpu_ms $(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.1f", (b - a) / 1e6}') secondary_cpu_ms $(($(cpu_ns "$sec") / 1000000)) secondary_hwm $(hwm_mib "$sec")" |
      tee -a "$work/$1.secondary" | sed "s/^/  $1 secondary $i: /"
    stop_tree "$sec"
    rm -rf "$dir"
  done
}

# Transfers REPEAT times; one line per transfer in $work/<server>.<label>, and the
# client's figures echoed.
transfer() { # server pid addr label [serial]
  local i c0 c1 out
  for i in $(seq 1 "$REPEAT"); do
    reset_hwm "$2"
    local before
    before=$(rss_mib "$2")
    c0=$(cpu_ns "$2")
    out=$(taskset -c 1 timeout 600 "$PULL" "$3:$PORT" $ZONE ${5:-})
    c1=$(cpu_ns "$2")
    echo "$out cpu_ms $(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.1f", (b - a) / 1e6}') rss_before $before hwm $(hwm_mib "$2") rss_after $(rss_mib "$2")" |
      tee -a "$work/$1.$4" | sed "s/^/  $1 $4 $i: /"
  done
}
# The median of FIELD (the word after its name) over the lines of one measure.
field() { # server label field
  awk -v f="$3" '{for (i = 1; i < NF; i++) if ($i == f) print $(i + 1)}' "$work/$1.$2" | median
}
result() { echo "$1 $2 $3" >>"$work/results"; } # server metric value

updates() { # addr: UPDATES signed updates, each replacing one name's A record
  local i
  for i in $(seq 1 "$UPDATES"); do
    printf 'server %s %s\nzone %s.\nupdate delete h%d.%s. A\nupdate add h%d.%s. 3600 A 10.255.%d.%d\nsend\n' \
      "$1" $PORT $ZONE $((i * 7)) $ZONE $((i * 7)) $ZONE $((i >> 8 & 255)) $((i & 255))
  done >"$work/updates.txt"
  timeout 900 nsupdate -y "hmac-sha256:bench:$SECRET" -t 10 "$work/updates.txt"
}

echo "== zone transfers out of a $records-record zone; $(nproc) cores; servers on core 0, client on core 1; median of $REPEAT"
for server in ${SERVERS:-zonal knot}; do
  case $server in
    zonal) addr=$ZONAL; pid=$(start_zonal) ;;
    knot) addr=$KNOT; pid=$(start_knot) ;;
  esac
  pids+=("$pid")
  wait_ready "$addr" "$pid"
  pin "$pid" 0
  sleep 1 # let the load's last work (Knot: adjusting, journal) settle
  transfer "$server" "$pid" "$addr" axfr
  for f in ms first_ms cpu_ms records bytes messages rss_before hwm rss_after; do
    result "$server" "axfr_$f" "$(field "$server" axfr "$f")"
  done
  result "$server" axfr_form "$(field "$server" axfr form)"
  secondary "$server" "$pid" "$addr"
  for f in ms primary_cpu_ms secondary_cpu_ms secondary_hwm; do
    result "$server" "secondary_$f" "$(field "$server" secondary "$f")"
  done

  from=$(serial_of "$addr")
  t0=$(date +%s%3N)
  updates "$addr" 2>"$work/$server.nsupdate" || { echo "  $server: nsupdate failed" >&2; head -3 "$work/$server.nsupdate" >&2; }
  t1=$(date +%s%3N)
  to=$(serial_of "$addr")
  [ -s "$work/$server.nsupdate" ] && { echo "  $server: nsupdate said:"; sort "$work/$server.nsupdate" | uniq -c | head -3; }
  echo "  $server: $UPDATES updates in $(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100)) s, serial $from -> $to"
  result "$server" updates_s "$(awk -v m=$((t1 - t0)) 'BEGIN {printf "%.1f", m / 1000}')"
  result "$server" serials "$((to - from))"
  sleep 1 # Knot applies updates in its background worker
  transfer "$server" "$pid" "$addr" ixfr "$from"
  for f in ms cpu_ms records bytes messages rss_after; do
    result "$server" "ixfr_$f" "$(field "$server" ixfr "$f")"
  done
  result "$server" ixfr_form "$(field "$server" ixfr form)"
  stop_tree "$pid"
done

[ "${SERVERS:-zonal knot}" = "zonal knot" ] || exit 0
echo
awk '
  { v[$1, $2] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
  END {
    label["axfr_ms"] = "AXFR wall time, ms";           lower["axfr_ms"] = 1
    label["axfr_first_ms"] = "AXFR first message, ms";  lower["axfr_first_ms"] = 1
    label["axfr_cpu_ms"] = "AXFR server CPU, ms";       lower["axfr_cpu_ms"] = 1
    label["axfr_records"] = "AXFR records"
    label["axfr_bytes"] = "AXFR bytes"
    label["axfr_messages"] = "AXFR messages"
    label["axfr_form"] = "AXFR reply form"
    label["axfr_rss_before"] = "RSS before AXFR, MiB";  lower["axfr_rss_before"] = 1
    label["axfr_hwm"] = "RSS peak during AXFR, MiB";    lower["axfr_hwm"] = 1
    label["axfr_rss_after"] = "RSS after AXFR, MiB";    lower["axfr_rss_after"] = 1
    label["secondary_ms"] = "Knot secondary copy, ms";  lower["secondary_ms"] = 1
    label["secondary_primary_cpu_ms"] = "  primary CPU meanwhile, ms"; lower["secondary_primary_cpu_ms"] = 1
    label["secondary_secondary_cpu_ms"] = "  secondary CPU, ms"; lower["secondary_secondary_cpu_ms"] = 1
    label["secondary_secondary_hwm"] = "  secondary peak RSS, MiB"; lower["secondary_secondary_hwm"] = 1
    label["updates_s"] = "updates (nsupdate), s";       lower["updates_s"] = 1
    label["serials"] = "serial increments"
    label["ixfr_form"] = "IXFR reply form"
    label["ixfr_records"] = "IXFR records";             lower["ixfr_records"] = 1
    label["ixfr_bytes"] = "IXFR bytes";                 lower["ixfr_bytes"] = 1
    label["ixfr_messages"] = "IXFR messages"
    label["ixfr_ms"] = "IXFR wall time, ms";           lower["ixfr_ms"] = 1
    label["ixfr_cpu_ms"] = "IXFR server CPU, ms";       lower["ixfr_cpu_ms"] = 1
    label["ixfr_rss_after"] = "RSS after IXFR, MiB";    lower["ixfr_rss_after"] = 1
    printf "%-28s %12s %12s %12s  %s\n", "metric", "zonal", "knot", "zonal/knot", "better"
    for (i = 1; i <= n; i++) {
      m = order[i]; z = v["zonal", m]; k = v["knot", m]
      ratio = (z ~ /^[0-9.]+$/ && k ~ /^[0-9.]+$/ && k > 0) ? sprintf("%.2f", z / k) : "-"
      better = ""
      if (lower[m] && ratio != "-") better = (z + 0 < k + 0) ? sprintf("zonal (knot/zonal %.2f)", k / (z > 0 ? z : 1e-9)) : (z + 0 > k + 0 ? "knot" : "same")
      printf "%-28s %12s %12s %12s  %s\n", (m in label ? label[m] : m), z, k, ratio, better
    }
  }' "$work/results"
