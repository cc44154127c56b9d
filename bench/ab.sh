#!/usr/bin/env bash
# A/B benchmark: two builds of the suite on the same work, interleaved in one
# sitting, so a change can be checked for speed regressions on a noisy VM.
#
#   bench/ab.sh OLD_BIN_DIR NEW_BIN_DIR
#   FLOWS=2000000 RUNS=5 RATE=2500000 bench/ab.sh /tmp/old target/release
#
# Queries: bench/query.sh's (a)-(e) over FLOWS flows that the NEW build's
# flow-gen writes once into 5-minute native files (both builds read the
# same files). Ingest: each build's flow-capture receives the same RATE
# flows/s for STEP_SECS seconds from 4 exporters on loopback (NEW's
# flow-send, 2 processes); CPU seconds per million flows stored and the
# flows lost. Every measurement runs RUNS times, old and new alternating;
# the medians and new/old ratios are printed (< 1 is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$(cd "${1:?usage: bench/ab.sh OLD_BIN_DIR NEW_BIN_DIR}" && pwd)
NEW=$(cd "${2:?usage: bench/ab.sh OLD_BIN_DIR NEW_BIN_DIR}" && pwd)
FLOWS=${FLOWS:-20000000}
RUNS=${RUNS:-3}
RATE=${RATE:-2500000}
STEP_SECS=${STEP_SECS:-8}
PORT=${PORT:-39997}
WORK=${WORK:-${TMPDIR:-/tmp}/flowbench-ab}
SKIP_INGEST=${SKIP_INGEST:-}
SKIP_QUERY=${SKIP_QUERY:-}
[ -x /usr/bin/time ] || { echo "GNU time not found: apt-get install time" >&2; exit 1; }

mkdir -p "$WORK"
data="$WORK/flows-$FLOWS"
# the marker sits beside the data: inside, every reading tool would warn about it
if [ ! -f "$data.done" ]; then
  rm -rf "$data"; mkdir -p "$data"
  echo "generating $FLOWS flows into 5-minute native files" >&2
  "$NEW/flow-gen" --count "$FLOWS" --native --split-5min -o "$data" 2>/dev/null
  touch "$data.done"
fi
cat > "$WORK/filter.cfg" <<'EOF'
filter-primitive tcp
  type ip-protocol
  permit tcp
filter-primitive smtp-port
  type ip-port
  permit 25
filter-definition smtp
  match ip-protocol tcp
  match dst-ip-port smtp-port
EOF

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# one BIN CMD: wall seconds and peak RSS (KiB) of CMD with $B set to BIN
one() {
  B=$1 /usr/bin/time -f "%e %M" -o "$WORK/time.out" bash -c "$2" >/dev/null 2>"$WORK/err.out" || {
    echo "failed: $2" >&2; cat "$WORK/err.out" >&2; return 1; }
  cat "$WORK/time.out"
}

query_row() { # label cmd (uses $B)
  local label=$1 cmd=$2 ot=() nt=() orss=0 nrss=0 s k
  for _ in $(seq "$RUNS"); do
    read -r s k < <(one "$OLD" "$cmd"); ot+=("$s"); [ "$k" -gt "$orss" ] && orss=$k
    read -r s k < <(one "$NEW" "$cmd"); nt+=("$s"); [ "$k" -gt "$nrss" ] && nrss=$k
  done
  local om nm
  om=$(printf '%s\n' "${ot[@]}" | median); nm=$(printf '%s\n' "${nt[@]}" | median)
  awk -v l="$label" -v om="$om" -v nm="$nm" -v orss="$orss" -v nrss="$nrss" -v ot="${ot[*]}" -v nt="${nt[*]}" \
    'BEGIN {printf "%-32s old %6.2fs (%s)  new %6.2fs (%s)  new/old %.3f  RSS %4.0f / %4.0f MB\n", l, om, ot, nm, nt, nm/om, orss/1024, nrss/1024}'
}

echo "machine: $(nproc) cores; $FLOWS flows; medians of $RUNS runs, old and new alternating"
echo "old: $OLD"
echo "new: $NEW"
if [ -z "$SKIP_QUERY" ]; then
  d=$data
  query_row "(a) top sources -f 9 -S 2" "\$B/flow-stat -f 9 -S 2 $d"
  query_row "(b) src/dst pairs -f 10 -S 2" "\$B/flow-stat -f 10 -S 2 $d"
  query_row "(c) filtered -f 0 smtp" "\$B/flow-stat -f 0 --filter-file $WORK/filter.cfg --filter smtp $d"
  query_row "(d) pipe flow-cat | -f 9 -S 2" "\$B/flow-cat $d | \$B/flow-stat -f 9 -S 2"
  query_row "(e) full -f 5" "\$B/flow-stat -f 5 $d"
fi

# ingest BIN -> "stored cpu_s"
ingest() {
  local bin=$1 dir="$WORK/capture" t="$WORK/cap-time"
  rm -rf "$dir"; mkdir -p "$dir"
  /usr/bin/time -f "%U %S" -o "$t" "$bin/flow-capture" -w "$dir" -N 0 --rcvbuf 33554432 \
    "127.0.0.1/0/$PORT" 2>"$WORK/cap.log" &
  local tpid=$!
  sleep 1
  "$NEW/flow-send" --rate $((RATE / 2)) "127.0.0.1:$PORT" "$WORK/in.0" 2>/dev/null &
  local s0=$!
  "$NEW/flow-send" --rate $((RATE / 2)) "127.0.0.1:$PORT" "$WORK/in.1" 2>/dev/null &
  wait $s0 $!
  sleep 1
  kill -TERM $(cat "/proc/$tpid/task/$tpid/children") 2>/dev/null || true
  wait "$tpid" || true
  local stored
  stored=$("$NEW/flow-cat" "$dir" 2>/dev/null | "$NEW/flow-stat" -f 0 | awk '/^Total Flows/ {print $NF; exit}')
  read -r u sy <"$t"
  echo "${stored:-0} $(awk -v u="$u" -v s="$sy" 'BEGIN{printf "%.3f", u+s}')"
}

if [ -z "$SKIP_INGEST" ]; then
  n=$((RATE * STEP_SECS))
  "$NEW/flow-gen" --seed 1 -n $((n / 2)) --exporters 127.0.0.2,127.0.0.3 --rate $((RATE / 2)) -o "$WORK/in.0" >/dev/null 2>&1
  "$NEW/flow-gen" --seed 2 -n $((n / 2)) --exporters 127.0.0.4,127.0.0.5 --rate $((RATE / 2)) -o "$WORK/in.1" >/dev/null 2>&1
  oc=(); nc=(); ol=0; nl=0
  for _ in $(seq "$RUNS"); do
    read -r st c < <(ingest "$OLD"); oc+=("$(awk -v c="$c" -v s="$st" 'BEGIN{printf "%.4f", c*1e6/s}')"); ol=$((ol + n - st))
    read -r st c < <(ingest "$NEW"); nc+=("$(awk -v c="$c" -v s="$st" 'BEGIN{printf "%.4f", c*1e6/s}')"); nl=$((nl + n - st))
  done
  om=$(printf '%s\n' "${oc[@]}" | median); nm=$(printf '%s\n' "${nc[@]}" | median)
  awk -v r="$RATE" -v om="$om" -v nm="$nm" -v ot="${oc[*]}" -v nt="${nc[*]}" -v ol="$ol" -v nl="$nl" \
    'BEGIN {printf "ingest %d flows/s, CPU s per M flows: old %.3f (%s)  new %.3f (%s)  new/old %.3f; flows lost over all runs: old %d, new %d\n", r, om, ot, nm, nt, nm/om, ol, nl}'
  rm -f "$WORK"/in.*
fi
