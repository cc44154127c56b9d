#!/usr/bin/env bash
# flow-alert against one full scan of the same files.
#
# Generates 24 hours of collector-style 5-minute native files (FLOWS flows,
# default 20 M) with flow-gen, then times, median of RUNS (default 3):
#   baseline  `flow-stat -f 0 DIR` when flow-stat takes directories, else
#             `flow-cat DIR > /dev/null` (the fast path reading every file)
#   floor     flow-alert with one definition that matches nothing
#             (decode + scan cost of flow-alert itself)
#   alert     flow-alert with three definitions (redflags,
#             inboundmail_false, synscan), as cron runs it: a fresh state
#             whose first window covers the whole day
# and prints the ratio alert / baseline (the target is <= 1.5).
#
# Usage: bench/alert.sh [FLOWS] [WORKDIR]
#   env: RUNS=3  NO_BUILD=1 (use existing binaries)  THREADS=0 (all cores)
#        CARGO_TARGET_DIR (where the release binaries are)
set -euo pipefail

FLOWS=${1:-20000000}
WORK=${2:-${TMPDIR:-/tmp}/flow-alert-bench}
RUNS=${RUNS:-3}
THREADS=${THREADS:-0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release

if [ -z "${NO_BUILD:-}" ]; then
    (cd "$ROOT" && cargo build --release -p query -p alert -p testbed \
        --bin flow-gen --bin flow-alert --bin flow-cat --bin flow-stat)
fi

mkdir -p "$WORK"
RATE=$(awk -v n="$FLOWS" 'BEGIN { printf "%.6f", n / 86400 }')   # flows/s: the files span 24 h
DIR=$WORK/flows-$FLOWS
if [ ! -f "$DIR.complete" ]; then
    rm -rf "$DIR"
    mkdir -p "$DIR"
    echo "generating $FLOWS flows at $RATE/s into $DIR ..." >&2
    "$BIN/flow-gen" --seed 6 --count "$FLOWS" --rate "$RATE" \
        --start "2026-01-01 00:00:00" --native --split-5min -o "$DIR" >&2
    touch "$DIR.complete"
fi
NFILES=$(find "$DIR" -type f -name 'nf-*' | wc -l)
SIZE=$(du -sh "$DIR" | cut -f1)

CFG=$WORK/filter.cfg
cat > "$CFG" <<'CFGEOF'
filter-primitive TCP
  type ip-protocol
  permit tcp
filter-primitive hostingnet
  type ip-address-prefix
  permit 10.1.0.0/16
filter-primitive redflag_ports
  type ip-port
  permit 23
  permit 1433
filter-primitive smtpports
  type ip-port
  permit 25
filter-primitive local_not_mailservers
  type ip-address-mask
  deny 10.0.0.10 255.255.255.255
  deny 10.0.0.11 255.255.255.255
  permit 10.0.0.0 255.255.0.0
filter-primitive syn_only
  type ip-tcp-flags
  mask 0x3f
  permit 0x02
filter-primitive one_or_two
  type counter
  permit le 2
filter-definition redflags
  match ip-protocol TCP
  match ip-destination-port redflag_ports
  match ip-destination-address hostingnet
filter-definition inboundmail_false
  match ip-protocol TCP
  match ip-destination-port smtpports
  match ip-destination-address local_not_mailservers
filter-definition synscan
  match ip-protocol TCP
  match ip-tcp-flags syn_only
  match packets one_or_two
# matches nothing: flow-alert's own scan floor
filter-definition nothing
CFGEOF

# "now" just after the last file of the day, and a first window covering it
NOW=@$(( $(date -u -d "2026-01-02 00:05:00" +%s) ))

# seconds taken by "$@"; exit statuses listed in OK_CODES count as success
OK_CODES="0"
timed() {
    local t0 t1 rc=0
    t0=$(date +%s%N)
    "$@" > /dev/null 2>"$WORK/stderr" || rc=$?
    t1=$(date +%s%N)
    case " $OK_CODES " in
        *" $rc "*) ;;
        *) echo "failed (exit $rc): $*" >&2; cat "$WORK/stderr" >&2; exit 1 ;;
    esac
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

alert() {
    rm -f "$WORK/state" "$WORK/state.lock"
    "$BIN/flow-alert" -d "$DIR" -f "$CFG" -F "$1" --state "$WORK/state" \
        --now "$NOW" --first-window 25h --threads "$THREADS"
}

if "$BIN/flow-stat" -f 0 "$DIR" > /dev/null 2>&1; then
    BASE_NAME="flow-stat -f 0 DIR"
    baseline() { "$BIN/flow-stat" -f 0 "$DIR"; }
else
    BASE_NAME="flow-cat DIR > /dev/null (flow-stat does not take directories yet)"
    baseline() { "$BIN/flow-cat" "$DIR"; }
fi

# warm the page cache so every contender reads from memory
find "$DIR" -type f -name 'nf-*' -exec cat {} + > /dev/null

declare -a B F A
for _ in $(seq "$RUNS"); do
    OK_CODES="0"; B+=("$(timed baseline)")
    OK_CODES="0 1"; F+=("$(timed alert nothing)")
    A+=("$(timed alert redflags,inboundmail_false,synscan)")
done
b=$(printf '%s\n' "${B[@]}" | median)
f=$(printf '%s\n' "${F[@]}" | median)
a=$(printf '%s\n' "${A[@]}" | median)

alert redflags,inboundmail_false,synscan > "$WORK/report.txt" || true
echo "flows:      $FLOWS in $NFILES files ($SIZE), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "report:     $(head -1 "$WORK/report.txt")"
echo "baseline:   ${b}s  median of $RUNS ($BASE_NAME; runs: ${B[*]})"
echo "alert 0:    ${f}s  one definition matching nothing (runs: ${F[*]})"
echo "alert 3:    ${a}s  three definitions (runs: ${A[*]})"
awk -v a="$a" -v b="$b" -v f="$f" 'BEGIN {
    printf "ratio:      alert 3 / baseline = %.2f (target <= 1.5); alert 3 / alert 0 = %.2f\n", a / b, a / f }'
