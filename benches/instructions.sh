#!/usr/bin/env bash
# The query path in instructions: `server::respond` on each question of `respond/*`
# (benches/query_path.rs), counted by valgrind's callgrind inside the harness's loop
# only (benches/respond_instructions.rs): the count does not depend on what else the
# machine is doing (criterion's nanoseconds moved by up to 25% between runs of one
# binary on this project's shared machines). What varies is the hash seed each
# process draws (up to ~4% for one question), so each figure is the median of RUNS
# processes.
#
#   benches/instructions.sh [COUNT]              (default 20000 questions a process)
#   RUNS=7 benches/instructions.sh               (processes per figure, default 5)
#   BEFORE=path/to/respond_instructions benches/instructions.sh
#       also an older build of the harness (built in a worktree of the older commit
#       with benches/respond_instructions.rs and benches/common/mod.rs copied in and
#       a [[bench]] entry added): after ÷ before, the runs interleaved
#
# Needs: valgrind (apt-get install valgrind), cargo. Bounded: RUNS × 9 runs of a few
# seconds each (twice that with BEFORE).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-20000}
command -v valgrind >/dev/null || { echo "missing valgrind (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d /tmp/zonal-instructions.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The harness, built with the bench profile (the release settings: fat LTO).
AFTER=$(cargo bench --bench respond_instructions --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "respond_instructions" and m.get("executable"):
        print(m["executable"])')
BEFORE=${BEFORE:-}

RUNS=${RUNS:-5}
# Instructions of one respond in one process: the loop's count ÷ COUNT.
per_respond() { # binary case
  local out="$work/cg.$RANDOM"
  valgrind --tool=callgrind --collect-atstart=no --toggle-collect='respond_instructions::ask' \
    --callgrind-out-file="$out" "$1" "$2" "$COUNT" >/dev/null 2>&1
  awk -v n="$COUNT" '/^totals:/ {printf "%d\n", $2 / n}' "$out"
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

cases=$("$AFTER" 2>&1)
if [ -n "$BEFORE" ]; then
  printf '%-20s %12s %12s %8s\n' case after before ratio
else
  printf '%-20s %12s\n' case instructions
fi
for c in $cases; do
  : >"$work/a" && : >"$work/b"
  for _ in $(seq 1 "$RUNS"); do
    per_respond "$AFTER" "$c" >>"$work/a"
    [ -z "$BEFORE" ] || per_respond "$BEFORE" "$c" >>"$work/b"
  done
  a=$(median <"$work/a")
  if [ -n "$BEFORE" ]; then
    b=$(median <"$work/b")
    printf '%-20s %12d %12d %8s\n' "$c" "$a" "$b" "$(python3 -c "print(f'{$a/$b:.3f}')")"
  else
    printf '%-20s %12d\n' "$c" "$a"
  fi
done
