#!/usr/bin/env bash
# flow-import throughput: import a generated iptables log (default 1 GB)
# into native files on one core, RUNS times (default 3), and print the
# medians of lines/s (wall), lines per CPU-second (user+sys) and peak RSS,
# without and with duplicate detection.
#
#   bench/import.sh                      # 1024 MB, 3 runs each
#   SIZE_MB=200 RUNS=1 bench/import.sh   # quicker
#   FLOW_IMPORT=/path/to/flow-import bench/import.sh   # another build
#
# The log is generated once into $WORK (kept with KEEP=1, deleted
# otherwise) by bench/gen_iptables_log.py; flow-import runs under `taskset`
# on one CPU when available. Wall time depends on what else runs on the
# machine (the load is printed); CPU time much less so: compare
# lines per CPU-second between builds.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
WORK=${WORK:-${TMPDIR:-/tmp}/flowbench-import}
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$WORK"
log="$WORK/iptables-${SIZE_MB}M.log"
if [ -z "${FLOW_IMPORT:-}" ]; then
  cargo build --release --quiet -p import --bin flow-import
  FLOW_IMPORT="$TARGET/release/flow-import"
fi
if [ ! -s "$log" ]; then
  echo "generating $SIZE_MB MB of kernel LOG lines into $log" >&2
  python3 bench/gen_iptables_log.py "$SIZE_MB" "$log"
fi
lines=$(wc -l < "$log")
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
timer=""
[ -x /usr/bin/time ] && timer="/usr/bin/time -f %e\t%U\t%S\t%M -o $WORK/time.txt"
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
run() { # label, extra flags
  local label=$1; shift
  local walls="" cpus="" rss="" records=""
  for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/out"
    local start end
    start=$(date +%s.%N)
    $timer $pin "$FLOW_IMPORT" --format iptables --year 2025 "$@" -o "$WORK/out" "$log" 2> "$WORK/report.txt"
    end=$(date +%s.%N)
    records=$(grep -o 'v5 records written [0-9]*' "$WORK/report.txt" | awk '{print $4}')
    if [ -n "$timer" ]; then
      IFS=$'\t' read -r w u s m < "$WORK/time.txt"
      walls="$walls $w"
      cpus="$cpus $(echo "$u + $s" | bc -l)"
      rss="$rss $m"
    else
      walls="$walls $(echo "$end - $start" | bc -l)"
    fi
  done
  local w c m
  w=$(echo "$walls" | tr ' ' '\n' | grep . | median)
  printf '%s: %s lines, %s v5 records; median of %s runs\n' "$label" "$lines" "$records" "$RUNS"
  printf '  wall %.2f s: %.0f lines/s, %.0f MB/s\n' "$w" "$(echo "$lines / $w" | bc -l)" \
    "$(echo "$SIZE_MB / $w" | bc -l)"
  if [ -n "$timer" ]; then
    c=$(echo "$cpus" | tr ' ' '\n' | grep . | median)
    m=$(echo "$rss" | tr ' ' '\n' | grep . | median)
    printf '  cpu %.2f s (user+sys): %.0f lines per CPU-second\n' "$c" "$(echo "$lines / $c" | bc -l)"
    printf '  peak RSS %.1f MB\n' "$(echo "$m / 1024" | bc -l)"
  fi
}
run "without duplicate detection" --no-dedupe
run "with duplicate detection (default)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
rm -rf "$WORK/out"
[ "${KEEP:-0}" = 1 ] || rm -f "$log"
