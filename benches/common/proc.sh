# Shell helpers the load scripts of benches/ share: a server's processes, its CPU
# time and memory, read from /proc. Sourced, never run.

# The server's process and all its descendants (NSD: xfrd → main → one server per worker).
tree() {
  local c
  echo "$1"
  for c in $(pgrep -P "$1" || true); do tree "$c"; done
}

# CPU time (user + system, in clock ticks) of the server's processes, all threads.
cpu_ticks() {
  local total=0 p
  for p in $(tree "$1"); do
    # Fields after "pid (comm) ": comm may hold spaces ("nsd: server 1"); utime and stime are the 12th and 13th.
    [ -r "/proc/$p/stat" ] && total=$((total + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

# Pins the server's processes, all threads, to CPUS (taskset list).
pin() { # pid cpus
  for p in $(tree "$1"); do taskset -a -p -c "$2" "$p" >/dev/null; done
}

# Stops the server and its descendants.
stop_tree() { # pid
  for p in $(tree "$1"); do kill "$p" 2>/dev/null || true; done
  wait "$1" 2>/dev/null || true
}

# Resident memory of one process, MiB.
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
