#!/usr/bin/env bash
# Compare zone-file verdicts (accept/reject) of zonal, BIND and Knot DNS on a corpus.
#
#   benches/zone_corpus.sh CORPUS_DIR LIST_FILE [REPORT_FILE]
#
# LIST_FILE holds one `origin<TAB>path[<TAB>dir]` line per zone file, paths relative to
# CORPUS_DIR; further columns are ignored. Each file is checked from DIR (default: the
# file's own directory), as the server or test that loads it does, so relative
# `$INCLUDE` paths resolve as they do there:
#
#   bind       named-checkzone -q ORIGIN FILE          (default settings: -i full,
#                                                      -k fail, -n/-m/-M/-S warn)
#   bind_noint named-checkzone -q -i none ORIGIN FILE  (no post-load integrity checks)
#   knot       kzonecheck -v -d off -o ORIGIN FILE     (skipped if not installed)
#   knotd      the same run, judged as knotd loads a zone (semantic-checks: off): only
#              a zone-loader (parse) error or a failed mandatory check rejects; the
#              extra checks kzonecheck fails on (missing glue, NS at apex, DS and
#              NSEC3PARAM values, CDS/CDNSKEY) do not
#   zonal      zonal check-zone ORIGIN FILE
#
# The verdict is the exit code (0 = accepted). A `.in` file holding @VAR@ placeholders
# that BIND rejects as it stands is a template needing substitution: it is counted
# and skipped. Prints the counts; writes every entry where the tools disagree, with
# the first error line of each tool, to REPORT_FILE (default zone_corpus.report), and
# every verdict to REPORT_FILE.tsv.
#
# Environment: ZONAL=path to the binary (default: `cargo build --release -q` here and
# use target/release/zonal); PER_FILE_TIMEOUT (seconds, default 20); MAX_FILES (default
# 5000); KEEP_LOGS=DIR keeps every tool's full output per entry.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 CORPUS_DIR LIST_FILE [REPORT_FILE]" >&2
    exit 2
fi
corpus=$(cd "$1" && pwd)
list=$(realpath "$2")
report=$(realpath -m "${3:-zone_corpus.report}")
timeout_s=${PER_FILE_TIMEOUT:-20}
max_files=${MAX_FILES:-5000}
here=$(cd "$(dirname "$0")/.." && pwd)

command -v named-checkzone >/dev/null || { echo "named-checkzone not found (apt-get install bind9-utils)" >&2; exit 2; }
have_knot=1
command -v kzonecheck >/dev/null || { have_knot=0; echo "kzonecheck not found (apt-get install knot-dnssecutils): Knot skipped" >&2; }

if [ -z "${ZONAL:-}" ]; then
    (cd "$here" && cargo build --release -q)
    ZONAL=$here/target/release/zonal
fi
zonal=$(realpath "$ZONAL")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run NAME CMD...: runs CMD bounded by the timeout, output in $work/NAME, echoes rc.
run() {
    local name=$1; shift
    local rc=0
    timeout -k 2 "$timeout_s" "$@" >"$work/$name" 2>&1 </dev/null || rc=$?
    echo "$rc"
}

# first_err FILE: the first line saying what is wrong (else the first line), one line.
first_err() {
    local line
    line=$(grep -v -E '^(zone .*: loaded serial|OK$|No semantic error found|Error summary:|$)' "$1" \
        | grep -i -m1 -E 'error|fail|bad|unknown|not |expect|invalid|too |out of|ignor|syntax|missing|beside|exist|range|illegal|unexpected|no ' \
        || true)
    [ -n "$line" ] || line=$(grep -m1 -v '^$' "$1" || true)
    printf '%s' "${line:0:300}" | tr '\t\n' '  '
}

# v RC: A (accepted), T (timed out) or R (rejected).
v() { case $1 in 0) echo A ;; 124 | 137) echo T ;; *) echo R ;; esac; }

# knotd_v RC OUTPUT: knotd's verdict from a kzonecheck run (see the top).
knotd_mandatory='zone loader|missing SOA at the zone apex|another record exists beside CNAME|multiple CNAME records|child record exists under DNAME|multiple DNAME records|NS record exists beside DNAME'
knotd_v() {
    if [ "$1" = 0 ]; then echo A
    elif [ "$1" = 124 ] || [ "$1" = 137 ]; then echo T
    elif grep -q -E "$knotd_mandatory" "$2"; then echo R
    else echo A; fi
}

tsv=$report.tsv
: >"$report"
printf 'origin\tpath\tbind\tbind_noint\tknot\tzonal\tknotd\n' >"$tsv"
n=0 skipped_tpl=0 missing=0
while IFS=$'\t' read -r origin path cwd _; do
    [ -n "$origin" ] && [ -n "$path" ] || continue
    [ "${origin:0:1}" = "#" ] && continue
    n=$((n + 1))
    [ "$n" -le "$max_files" ] || { echo "MAX_FILES=$max_files reached" >&2; n=$((n - 1)); break; }
    file=$corpus/$path
    if [ ! -f "$file" ]; then missing=$((missing + 1)); n=$((n - 1)); continue; fi
    if [ -n "${cwd:-}" ]; then dir=$corpus/$cwd; else dir=$(dirname "$file"); fi
    base=$(realpath -s --relative-to="$dir" "$file")
    b=$(cd "$dir" && run bind named-checkzone "$origin" "$base")
    if [[ "$base" == *.in ]] && [ "$b" != 0 ] && grep -q -E '@[A-Za-z0-9_]+@' "$file"; then
        skipped_tpl=$((skipped_tpl + 1)); n=$((n - 1))
        printf '%s\t%s\tTEMPLATE\t-\t-\t-\t-\n' "$origin" "$path" >>"$tsv"
        continue
    fi
    bn=$(cd "$dir" && run bind_noint named-checkzone -i none "$origin" "$base")
    k=-
    if [ "$have_knot" = 1 ]; then k=$(cd "$dir" && run knot kzonecheck -v -d off -o "$origin" "$base"); fi
    z=$(cd "$dir" && run zonal "$zonal" check-zone "$origin" "$base")
    vb=$(v "$b") vbn=$(v "$bn") vz=$(v "$z")
    vk=- vkd=-
    if [ "$k" != - ]; then vk=$(v "$k") vkd=$(knotd_v "$k" "$work/knot"); fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$origin" "$path" "$vb" "$vbn" "$vk" "$vz" "$vkd" >>"$tsv"
    if [ -n "${KEEP_LOGS:-}" ]; then
        d=$KEEP_LOGS/$n; mkdir -p "$d"
        printf '%s\t%s\n' "$origin" "$path" >"$d/entry"
        for t in bind bind_noint knot zonal; do if [ -f "$work/$t" ]; then cp "$work/$t" "$d/$t"; fi; done
    fi
    if [ "$vb" != "$vz" ] || [ "$vbn" != "$vz" ] || { [ "$vk" != - ] && [ "$vk" != "$vz" ]; }; then
        {
            printf '== %s %s  bind=%s bind_noint=%s knot=%s knotd=%s zonal=%s\n' "$origin" "$path" "$vb" "$vbn" "$vk" "$vkd" "$vz"
            printf '   bind:       %s\n' "$(first_err "$work/bind")"
            [ "$vbn" = "$vb" ] || printf '   bind_noint: %s\n' "$(first_err "$work/bind_noint")"
            [ "$vk" = - ] || printf '   knot:       %s\n' "$(first_err "$work/knot")"
            printf '   zonal:      %s\n' "$(first_err "$work/zonal")"
        } >>"$report"
    fi
    rm -f "$work/bind" "$work/bind_noint" "$work/knot" "$work/zonal"
done <"$list"

# Counts, from the verdict table.
awk -F'\t' -v missing="$missing" -v tpl="$skipped_tpl" -v knot="$have_knot" '
NR == 1 || $3 == "TEMPLATE" { next }
{
    total++
    b = $3; bn = $4; k = $5; z = $6; kd = $7
    if (b == z && bn == z && (k == "-" || k == z)) all++
    if (b == z) bz++; else if (b == "A") bAzR++; else bRzA++
    if (bn == z) bnz++; else if (bn == "A") bnAzR++; else bnRzA++
    if (k != "-") { if (k == z) kz++; else if (k == "A") kAzR++; else kRzA++
                    if (kd == z) kdz++; else if (kd == "A") kdAzR++; else kdRzA++
                    if (b == z && kd == z) all2++
                    if (k == b) kb++; else if (b == "A") bAkR++; else bRkA++ }
    if (b == "T" || k == "T" || z == "T") timeouts++
}
END {
    printf "entries checked:                 %d (templates skipped: %d, missing files: %d)\n", total, tpl, missing
    printf "all tools agree:                 %d\n", all
    printf "bind (default -i full) vs zonal: agree %d, bind accepts/zonal rejects %d, bind rejects/zonal accepts %d\n", bz, bAzR, bRzA
    printf "bind -i none vs zonal:           agree %d, bind accepts/zonal rejects %d, bind rejects/zonal accepts %d\n", bnz, bnAzR, bnRzA
    if (knot == 1) {
    printf "knot vs zonal:                   agree %d, knot accepts/zonal rejects %d, knot rejects/zonal accepts %d\n", kz, kAzR, kRzA
    printf "knotd vs zonal:                  agree %d, knotd accepts/zonal rejects %d, knotd rejects/zonal accepts %d\n", kdz, kdAzR, kdRzA
    printf "bind, knotd and zonal agree:     %d\n", all2
    printf "bind vs knot:                    agree %d, bind accepts/knot rejects %d, bind rejects/knot accepts %d\n", kb, bAkR, bRkA
    }
    if (timeouts) printf "timeouts:                        %d\n", timeouts
}' "$tsv"
echo "disagreements: $report   verdicts: $tsv"
