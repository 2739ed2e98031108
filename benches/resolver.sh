#!/usr/bin/env bash
# Caching resolver: zonal next to Unbound, both resolving through the same fake DNS
# hierarchy on loopback, measured in the same run.
#
#   benches/resolver.sh [SECONDS_PER_RUN]        (default 10)
#   ORDER="unbound zonal" benches/resolver.sh      (the order resolvers are measured in)
#   ZONAL_BEFORE=path/to/old/zonal ORDER="zonal before unbound" benches/resolver.sh
#       also an older build as a third resolver, "before" (127.0.2.12), same config
#   ZONAL_BIN=path/to/zonal ...   (the current build, not built here; also the authoritatives)
#
# The hierarchy: three zonal authoritative instances (--no-recursion, port 53, since
# Unbound asks authoritative servers on port 53 only) — the root on 127.0.2.1
# delegating test. to 127.0.2.2, which delegates bench.test. to 127.0.2.3; bench.test.
# holds 5,000 hosts (TTL 86400) and a wildcard *.wild.bench.test. Both resolvers
# start from the same root hints; Unbound gets local-zone "test." nodefault (by
# default it answers test. itself, NXDOMAIN, as RFC 6761 allows). zonal listens on
# 127.0.2.10, Unbound on 127.0.2.11 (port 5300), each pinned to core 0 with one
# worker/thread (both run throughout; the one not measured sits idle); dnsperf and
# the authoritative servers run on core 1. CPU shares come from /proc. Unbound gets so-rcvbuf/so-sndbuf 4m, the UDP buffers zonal asks
# for (src/net/socket.rs): with the 208 KiB default it drops queries under dnsperf's
# 500 outstanding, and each drop idles a dnsperf slot for its 5 s timeout.
#
# 1. Memory per cached name: each resolver's RSS, fresh, before and after resolving
#    100,000 distinct names under the wildcard.
# 2. Cache hits: 3,000 distinct hosts, asked once to warm the cache, then dnsperf for
#    SECONDS_PER_RUN: q/s, the resolver's CPU share, q/s per resolver core.
# 3. Cache misses: names under the wildcard that are each asked once (dnsperf reads
#    the file once, -n 1): misses/s, the resolver's CPU share and CPU µs per miss,
#    upstream queries per miss (from the machine's UDP datagram count: each miss is
#    2 client datagrams plus 2 per upstream query), lost and failed (not NOERROR).
# "drops" is the machine's UDP receive-buffer drops (/proc/net/snmp) during the run.
# Needs: unbound, dnsperf, dig, python3, cargo (apt-get install unbound dnsperf
# bind9-dnsutils), and root (port 53). Every loop is bounded in time; every server
# started here is stopped here.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
PORT=5300
ROOT=127.0.2.1 TLD=127.0.2.2 LEAF=127.0.2.3 ZONAL=127.0.2.10 UNBOUND=127.0.2.11 BEFORE=127.0.2.12
HOSTS=5000 HITS=3000 MEM_NAMES=100000
MISS_NAMES=$((DUR * 120000)) # misses run at 10k–70k/s: none repeats within a run
TICKS=$(getconf CLK_TCK)
export PATH="$PATH:/usr/sbin"

work=$(mktemp -d /tmp/zonal-resolver.XXXXXX)
pids=()
# Running (not zombie) processes among the PIDs given.
alive() { local p; for p in "$@"; do [ -n "$p" ] && grep -qv '^State:.*Z' "/proc/$p/status" 2>/dev/null && echo "$p"; done; return 0; }
cleanup() { # Unbound takes a moment to free its caches: wait up to 5 s, then SIGKILL
  local _
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do [ -z "$(alive "${pids[@]:-}")" ] && break; sleep 0.1; done
  for p in $(alive "${pids[@]:-}"); do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

for tool in unbound dnsperf dig python3 taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install unbound dnsperf bind9-dnsutils)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run as root: the authoritative servers listen on port 53" >&2; exit 1; }
systemctl stop unbound >/dev/null 2>&1 || true

# ZONAL_BIN: measure this binary as the current build instead of building one.
ZONAL_BIN=${ZONAL_BIN:-}
if [ -z "$ZONAL_BIN" ]; then
  cargo build --release -q
  ZONAL_BIN=target/release/zonal
fi

# --- the hierarchy, hints and query files ----------------------------------------
mkdir -p "$work/root" "$work/tld" "$work/leaf" "$work/empty"
python3 - "$work" "$HOSTS" "$HITS" "$MISS_NAMES" "$MEM_NAMES" "$ROOT" "$TLD" "$LEAF" <<'EOF'
import os, sys
work, hosts, hits, misses, mem = sys.argv[1], *map(int, sys.argv[2:6])
root, tld, leaf = sys.argv[6:9]
soa = "SOA ns1 hostmaster 1 7200 900 1209600 300"
def write(path, text):
    with open(os.path.join(work, path), "w") as f:
        f.write(text)
write("root/root.zone", f"""$ORIGIN .
$TTL 86400
@ SOA ns.nic.test. hostmaster.nic.test. 1 7200 900 1209600 300
@ NS ns.nic.test.
test. NS ns1.nic.test.
ns.nic.test. A {root}
ns1.nic.test. A {tld}
""")
write("tld/test.zone", f"""$ORIGIN test.
$TTL 86400
@ {soa.replace('ns1', 'ns1.nic', 1)}
@ NS ns1.nic
ns.nic A {root}
ns1.nic A {tld}
bench NS ns1.bench
ns1.bench A {leaf}
""")
with open(os.path.join(work, "leaf/bench.test.zone"), "w") as z:
    z.write(f"$ORIGIN bench.test.\n$TTL 86400\n@ {soa}\n@ NS ns1\nns1 A {leaf}\n")
    z.write("*.wild 3600 A 192.0.2.77\n")
    z.writelines(f"h{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n" for i in range(1, hosts + 1))
write("root.hints", f". 3600000 NS ns.nic.test.\nns.nic.test. 3600000 A {root}\n")
write("hits.txt", "".join(f"h{i}.bench.test. A\n" for i in range(1, hits + 1)))
write("misses.txt", "".join(f"m{i}.wild.bench.test. A\n" for i in range(misses)))
write("mem.txt", "".join(f"r{i}.wild.bench.test. A\n" for i in range(mem)))
EOF

source benches/common/proc.sh # tree, cpu_ticks, pin, stop_tree, rss_mib
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
udp_in() { awk '/^Udp:/ {if (h) print $2; h = 1}' /proc/net/snmp; }    # datagrams received
udp_drops() { awk '/^Udp:/ {if (h) print $6; h = 1}' /proc/net/snmp; } # receive-buffer errors

# Waits until DIG_ARGS answer with EXPECT; on failure shows the server's log.
wait_ready() { # name expect dig_args...
  local name=$1 expect=$2 i
  shift 2
  for i in $(seq 1 100); do
    dig +short +time=1 +tries=1 "$@" 2>/dev/null | grep -qx "$expect" && return 0
    sleep 0.2
  done
  echo "$name did not answer 'dig $*' with $expect; its log:" >&2
  tail -20 "$work/$name.log" >&2
  exit 1
}

start_auth() { # name dir addr
  "$ZONAL_BIN" --no-recursion --zone-dir "$2" --listen "$3:53" --workers 1 >/dev/null 2>"$work/$1.log" &
  echo $!
}
start_zonal() { # [binary address name]
  cat >"$work/zonal.toml" <<EOF
zone_dir = "$work/empty"
[resolver]
allow = ["127.0.0.0/8"]
root_hints = "$work/root.hints"
query_localhost = true
cache_size_mib = 256
# One load generator asking 500 misses at a time, all through one leaf server: the
# abuse limits (README, Resolver abuse limits) would answer most of them SERVFAIL
# at once, so they are off here. ZONAL_RESOLVER_EXTRA adds keys (upstream_cookies).
max_client_questions = 0
max_prefix_questions = 0
max_server_qps = 0
${ZONAL_RESOLVER_EXTRA:-}
EOF
  "${1:-$ZONAL_BIN}" --config "$work/zonal.toml" --listen "${2:-$ZONAL}:$PORT" --workers 1 >/dev/null 2>"$work/${3:-zonal}.log" &
  echo $!
}
start_before() {
  [ -x "${ZONAL_BEFORE:-}" ] || { echo "ORDER names before: set ZONAL_BEFORE to an older zonal binary" >&2; exit 1; }
  start_zonal "$ZONAL_BEFORE" "$BEFORE" before
}
start_unbound() {
  cat >"$work/unbound.conf" <<EOF
server:
    interface: $UNBOUND@$PORT
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    root-hints: "$work/root.hints"
    module-config: "iterator"
    qname-minimisation: yes
    num-threads: 1
    username: ""
    chroot: ""
    directory: "$work"
    pidfile: "$work/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    msg-cache-size: 128m
    rrset-cache-size: 128m
    so-reuseport: yes
    harden-referral-path: no
    local-zone: "test." nodefault
    so-rcvbuf: 4m
    so-sndbuf: 4m
remote-control:
    control-enable: no
EOF
  unbound -d -c "$work/unbound.conf" >/dev/null 2>"$work/unbound.log" &
  echo $!
}

# The authoritative servers, on core 1 with dnsperf: core 0 is the resolver's alone.
auth_pids=""
for z in root:$ROOT tld:$TLD leaf:$LEAF; do
  IFS=: read -r name addr <<<"$z"
  pid=$(start_auth "$name" "$work/$name" "$addr"); pids+=("$pid"); auth_pids="$auth_pids $pid"
done
wait_ready root "ns.nic.test." +norec @"$ROOT" . NS
wait_ready tld "ns1.nic.test." +norec @"$TLD" test NS
wait_ready leaf "192.0.2.77" +norec @"$LEAF" x.wild.bench.test A
for p in $auth_pids; do pin "$p" 1; done

declare -A addr_of=([zonal]=$ZONAL [unbound]=$UNBOUND [before]=$BEFORE) pid_of
ORDER=${ORDER:-zonal unbound}
for r in $ORDER; do
  pid=$(start_"$r"); pids+=("$pid"); pid_of[$r]=$pid
  wait_ready "$r" 10.0.0.1 @"${addr_of[$r]}" -p $PORT h1.bench.test A
  kill -0 "$pid" 2>/dev/null || { echo "$r exited at start" >&2; tail -20 "$work/$r.log" >&2; exit 1; }
  pin "$pid" 0
done

# Runs dnsperf on core 1 against resolver R; sets out, runtime, completed, lost, failed, qps.
run_dnsperf() { # r file dnsperf_args...
  local r=$1 file=$2
  shift 2
  out=$(taskset -c 1 dnsperf -s "${addr_of[$r]}" -p $PORT -d "$file" -c 20 -T 1 "$@" 2>&1) || {
    echo "dnsperf failed against $r: $out" >&2; tail -20 "$work/$r.log" >&2; exit 1; }
  runtime=$(echo "$out" | awk '/Run time/ {print $4}')
  completed=$(echo "$out" | awk '/Queries completed/ {print $3}')
  lost=$(echo "$out" | awk '/Queries lost/ {print $3}')
  qps=$(echo "$out" | awk '/Queries per second/ {printf "%d", $4}')
  failed=$(echo "$out" | awk '/Response codes/ {sub(/.*Response codes: */, ""); n = split($0, c, /, */);
    for (i = 1; i <= n; i++) { split(c[i], f, " "); if (f[1] != "NOERROR") s += f[2] } } END {print s + 0}')
  kill -0 "${pid_of[$r]}" 2>/dev/null || { echo "$r died during dnsperf; its log:" >&2; tail -20 "$work/$r.log" >&2; exit 1; }
}
note_failures() { # r
  if [ "$lost" != 0 ] || [ "$failed" != 0 ]; then
    echo "  ($1: $lost lost, $failed not NOERROR: $(echo "$out" | grep 'Response codes' | sed 's/^ *//'))"
    [ -s "$work/$1.log" ] && tail -3 "$work/$1.log" | sed "s/^/    /"
  fi
  return 0
}
check_answer() { # r name expect
  local got
  got=$(dig +short +time=2 +tries=1 @"${addr_of[$1]}" -p $PORT "$2" A 2>&1 || true)
  [ "$got" = "$3" ] || echo "  ($1: wrong answer for $2: '$got', expected $3)"
}

echo "hierarchy: root $ROOT → test. $TLD → bench.test. $LEAF ($HOSTS hosts + wildcard), ${DUR}s per run, $(nproc) cores"
echo "resolvers: zonal $ZONAL:$PORT, unbound $UNBOUND:$PORT ($(unbound -V | head -1)); each on core 0, dnsperf and authoritatives on core 1"

# --- 1. memory per cached name, on fresh resolvers -----------------------------------
echo
echo "== memory: RSS before and after resolving $MEM_NAMES distinct names under *.wild.bench.test"
printf "%-8s %12s %12s %14s %8s %8s\n" server "before MiB" "after MiB" "bytes/name" lost failed
: >"$work/results"
for r in $ORDER; do
  before=$(rss_kib "${pid_of[$r]}")
  run_dnsperf "$r" "$work/mem.txt" -n 1 -l 120 -q 200
  sleep 0.5
  after=$(rss_kib "${pid_of[$r]}")
  per=$(awk -v a="$before" -v b="$after" -v n="$MEM_NAMES" 'BEGIN {printf "%d", (b - a) * 1024 / n}')
  printf "%-8s %12s %12s %14s %8s %8s\n" "$r" "$(awk -v k="$before" 'BEGIN {printf "%.1f", k / 1024}')" \
    "$(awk -v k="$after" 'BEGIN {printf "%.1f", k / 1024}')" "$per" "$lost" "$failed"
  [ "$completed" = "$MEM_NAMES" ] || echo "  ($r: only $completed of $MEM_NAMES names answered)"
  note_failures "$r"
  echo "mem $r $per" >>"$work/results"
done

# --- 2. cache hits --------------------------------------------------------------
echo
echo "== cache hits: $HITS distinct hosts, warmed, dnsperf -c 20 -q 500 for ${DUR}s"
printf "%-8s %10s %8s %12s %8s %8s %8s\n" server "q/s" cpu "q/s/core" lost failed drops
for r in $ORDER; do
  run_dnsperf "$r" "$work/hits.txt" -n 1 -l 60 -q 200 # warm: each host resolved once
  check_answer "$r" h42.bench.test 10.0.0.42
  c0=$(cpu_ticks "${pid_of[$r]}") d0=$(udp_drops)
  run_dnsperf "$r" "$work/hits.txt" -l "$DUR" -q 500
  c1=$(cpu_ticks "${pid_of[$r]}") d1=$(udp_drops)
  share=$(awk -v a="$c0" -v b="$c1" -v t="$TICKS" -v d="$runtime" 'BEGIN {printf "%.3f", (b - a) / t / d}')
  per_core=$(awk -v q="$qps" -v s="$share" 'BEGIN {printf "%d", (s > 0 ? q / s : 0)}')
  [ "$c1" -gt "$c0" ] || echo "warning: no CPU time read for $r: its q/s per core is meaningless" >&2
  printf "%-8s %10s %8s %12s %8s %8s %8s\n" "$r" "$qps" "$share" "$per_core" "$lost" "$failed" $((d1 - d0))
  note_failures "$r"
  echo "hits $r $qps $per_core" >>"$work/results"
done

# --- 3. cache misses ----------------------------------------------------------------
echo
echo "== cache misses: unique names under *.wild.bench.test, each asked once, dnsperf -c 20 -q 500 for ${DUR}s"
printf "%-8s %10s %8s %9s %14s %8s %8s %8s\n" server "misses/s" cpu "us/miss" "upstream/miss" lost failed drops
for r in $ORDER; do
  c0=$(cpu_ticks "${pid_of[$r]}") u0=$(udp_in) d0=$(udp_drops)
  run_dnsperf "$r" "$work/misses.txt" -n 1 -l "$DUR" -q 500
  c1=$(cpu_ticks "${pid_of[$r]}") u1=$(udp_in) d1=$(udp_drops)
  share=$(awk -v a="$c0" -v b="$c1" -v t="$TICKS" -v d="$runtime" 'BEGIN {printf "%.3f", (b - a) / t / d}')
  us=$(awk -v a="$c0" -v b="$c1" -v t="$TICKS" -v n="$completed" 'BEGIN {printf "%.1f", (n > 0 ? (b - a) / t / n * 1e6 : 0)}')
  up=$(awk -v a="$u0" -v b="$u1" -v n="$completed" 'BEGIN {printf "%.2f", (n > 0 ? (b - a - 2 * n) / 2 / n : 0)}')
  printf "%-8s %10s %8s %9s %14s %8s %8s %8s\n" "$r" "$qps" "$share" "$us" "$up" "$lost" "$failed" $((d1 - d0))
  [ "$completed" -lt "$MISS_NAMES" ] || echo "  ($r: the $MISS_NAMES names ran out after ${runtime}s)"
  note_failures "$r"
  check_answer "$r" "check-$RANDOM.wild.bench.test" 192.0.2.77
  echo "miss $r $qps $us" >>"$work/results"
done

echo
awk '{v[$1 " " $2] = $3; w[$1 " " $2] = $4}
     END {if (!v["mem zonal"] || !v["mem unbound"] || !w["miss unbound"] || !w["hits unbound"]) exit;
          printf "zonal / unbound: hits q/s per core %.2f; misses/s %.2f, cpu per miss %.2f (lower is better); memory per name %.2f (lower is better)\n",
            w["hits zonal"] / w["hits unbound"], v["miss zonal"] / v["miss unbound"], w["miss zonal"] / w["miss unbound"],
            v["mem zonal"] / v["mem unbound"]
          if (w["hits before"] && w["miss before"])
            printf "zonal / before: hits q/s per core %.2f; cpu per miss %.2f (lower is better)\n",
              w["hits zonal"] / w["hits before"], w["miss zonal"] / w["miss before"]}' "$work/results"
for name in $ORDER root tld leaf; do # anything the servers logged above info level
  grep -vE ' INFO |\] unbound\[[0-9:]+\] info: ' "$work/$name.log" | tail -5 | sed "s/^/  ($name log) /" || true
done
# The servers are stopped (and waited for) by cleanup at exit.
