#!/usr/bin/env bash
# flow-import throughput: import a generated iptables log (default 1 GB)
# into native files, one core, and print lines/s and records/s.
#
#   bench/import.sh                # 1024 MB
#   SIZE_MB=200 bench/import.sh    # quicker
#
# The log is generated once into $WORK (kept with KEEP=1, deleted
# otherwise) by bench/gen_iptables_log.py; flow-import runs under `taskset`
# on one CPU when available.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
WORK=${WORK:-${TMPDIR:-/tmp}/flowbench-import}
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$WORK"
log="$WORK/iptables-${SIZE_MB}M.log"
cargo build --release --quiet -p import --bin flow-import
if [ ! -s "$log" ]; then
  echo "generating $SIZE_MB MB of kernel LOG lines into $log" >&2
  python3 bench/gen_iptables_log.py "$SIZE_MB" "$log"
fi
lines=$(wc -l < "$log")
rm -rf "$WORK/out"
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
start=$(date +%s.%N)
$pin "$TARGET/release/flow-import" --format iptables --year 2025 --no-dedupe -o "$WORK/out" "$log" 2> "$WORK/report.txt"
end=$(date +%s.%N)
records=$(grep -o 'v5 records written [0-9]*' "$WORK/report.txt" | awk '{print $4}')
secs=$(echo "$end - $start" | bc -l)
printf 'input %s MB, %s lines, %s v5 records, %.2f s\n' "$SIZE_MB" "$lines" "$records" "$secs"
printf '%.0f lines/s, %.0f records/s, %.0f MB/s\n' "$(echo "$lines / $secs" | bc -l)" \
  "$(echo "$records / $secs" | bc -l)" "$(echo "$SIZE_MB / $secs" | bc -l)"
start=$(date +%s.%N)
$pin "$TARGET/release/flow-import" --format iptables --year 2025 -o "$WORK/out2" "$log" 2> /dev/null
end=$(date +%s.%N)
printf 'with duplicate detection: %.0f lines/s\n' "$(echo "$lines / ($end - $start)" | bc -l)"
rm -rf "$WORK/out" "$WORK/out2"
[ "${KEEP:-0}" = 1 ] || rm -f "$log"
