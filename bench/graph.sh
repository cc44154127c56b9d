#!/usr/bin/env bash
# flow-graph against the flow-stat -f 0 fast path over the same files.
#
#   bench/graph.sh                    # 20 M flows over 24 h, 5 runs each
#   FLOWS=2000000 RUNS=3 bench/graph.sh
#
# flow-gen writes FLOWS synthetic flows spread over one day into 5-minute
# native files (288 of them); every command then runs RUNS times over the
# whole day (--since/--until) and the median wall time, median CPU time
# (user+sys) and peak RSS are printed with the ratio to flow-stat -f 0
# (the target: a chart in at most 3x the time of that scan). On a shared
# machine the CPU ratio is the steadier figure.
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWS=${FLOWS:-20000000}
RUNS=${RUNS:-5}
WORK=${WORK:-${TMPDIR:-/tmp}/flowbench-graph}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$CARGO_TARGET_DIR/release

cargo build --release --quiet -p graph --bin flow-graph
cargo build --release --quiet -p query --bin flow-stat && cargo build --release --quiet -p testbed --bin flow-gen

flows="$WORK/flows"
if [ ! -f "$WORK/.generated-$FLOWS" ]; then
  rm -rf "$flows"; mkdir -p "$flows"
  rate=$(awk -v n="$FLOWS" 'BEGIN { printf "%.6f", n / 86400 }')
  echo "generating $FLOWS flows over 24 h into 5-minute native files" >&2
  "$BIN/flow-gen" --count "$FLOWS" --rate "$rate" --start "2026-11-21 00:00:00" \
    --native --split-5min -o "$flows"
  touch "$WORK/.generated-$FLOWS"
fi
export TZ=UTC
win="--since '2026-11-21 00:00' --until '2026-11-22 00:00'"

# measure CMD: "median-wall median-cpu max-rss-kib" over RUNS runs
measure() {
  local walls=() cpus=() rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.out" bash -c "$1" >/dev/null 2>"$WORK/err.out" || {
      echo "failed: $1" >&2; cat "$WORK/err.out" >&2; return 1; }
    read -r wall user sys kib < "$WORK/time.out"
    walls+=("$wall"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')")
    [ "$kib" -gt "$rss" ] && rss=$kib
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  echo "$(median "${walls[@]}") $(median "${cpus[@]}") $rss"
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $FLOWS flows over 24 h; median of $RUNS runs"
printf '%-44s %9s %9s %8s %9s %9s\n' "command" "wall" "cpu" "RSS" "wall/f0" "cpu/f0"
read -r bw bc br < <(measure "$BIN/flow-stat -f 0 $win $flows")
printf '%-44s %8.2fs %8.2fs %6.0fMB %9s %9s\n' "flow-stat -f 0" "$bw" "$bc" "$(awk -v r="$br" 'BEGIN {print r/1024}')" "1.00" "1.00"
row() { # label command
  read -r w c r < <(measure "$2")
  awk -v l="$1" -v w="$w" -v c="$c" -v r="$r" -v bw="$bw" -v bc="$bc" \
    'BEGIN {printf "%-44s %8.2fs %8.2fs %6.0fMB %9.2f %9.2f\n", l, w, c, r/1024, w/bw, c/bc}'
}
row "flow-graph --by proto -o day.svg" "$BIN/flow-graph $win $flows --by proto -o $WORK/day.svg"
row "flow-graph --by proto -o day.png" "$BIN/flow-graph $win $flows --by proto -o $WORK/day.png"
row "flow-graph --by port -o day.png (2 passes)" "$BIN/flow-graph $win $flows --by port -o $WORK/port.png"
row "flow-graph --by src -o day.svg (2 passes)" "$BIN/flow-graph $win $flows --by src -o $WORK/src.svg"
row "flow-graph --html (4 charts, f0/5/9/10)" "$BIN/flow-graph $win $flows --html $WORK/day.html"
