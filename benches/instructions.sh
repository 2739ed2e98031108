#!/usr/bin/env bash
# The query path in instructions: `server::respond` on each question of `respond/*`
# (benches/query_path.rs), counted by valgrind's callgrind, which gives the same count
# for the same binary and input on a busy host as on an idle one (criterion's
# nanoseconds moved by up to 25% between runs of one binary on this project's shared
# machines). Each case runs COUNT and 2×COUNT times; the difference ÷ COUNT is one
# respond, with start-up and the zone build subtracted exactly.
#
#   benches/instructions.sh [COUNT]                       (default 20000)
#   BEFORE=path/to/respond_instructions benches/instructions.sh
#       also an older build of the harness (built in a worktree of the older commit
#       with this file and benches/respond_instructions.rs copied in): after ÷ before
#
# Needs: valgrind (apt-get install valgrind), cargo. Bounded: 18 runs of a few
# seconds each (36 with BEFORE).
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

# Instructions executed by BINARY CASE N (callgrind's total Ir).
instructions() {
  local out="$work/cg.$RANDOM"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$1" "$2" "$3" >/dev/null 2>&1
  awk '/^totals:/ {print $2}' "$out"
}
# Instructions of one respond: (Ir(2N) − Ir(N)) ÷ N.
per_respond() {
  local one two
  one=$(instructions "$1" "$2" "$COUNT")
  two=$(instructions "$1" "$2" $((COUNT * 2)))
  echo $(((two - one) / COUNT))
}

cases=$("$AFTER" 2>&1)
if [ -n "$BEFORE" ]; then
  printf '%-20s %12s %12s %8s\n' case after before ratio
else
  printf '%-20s %12s\n' case instructions
fi
for c in $cases; do
  a=$(per_respond "$AFTER" "$c")
  if [ -n "$BEFORE" ]; then
    b=$(per_respond "$BEFORE" "$c")
    printf '%-20s %12d %12d %8s\n' "$c" "$a" "$b" "$(python3 -c "print(f'{$a/$b:.3f}')")"
  else
    printf '%-20s %12d\n' "$c" "$a"
  fi
done
