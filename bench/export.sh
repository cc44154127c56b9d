#!/usr/bin/env bash
# Whole-tool export benchmark: flow-export to Parquet and CSV over FLOWS
# synthetic flows in 5-minute native files, and nfdump's `-o csv` over the
# very same flows for comparison, in one run.
#
#   bench/export.sh                       # 20 M flows, 3 runs per measurement
#   FLOWS=2000000 RUNS=5 bench/export.sh
#   BIN=/path/to/release FLOW_SEND=/path/flow-send bench/export.sh   # prebuilt
#
# Prints, per measurement: median wall time and flows/s, median CPU time
# (user+sys) and flows per CPU-second (the figure that survives a shared
# machine), peak RSS, and bytes per flow on disk next to the native files.
# nfdump (Debian package `nfdump`, installed if missing and NFDUMP=1, the
# default) stores the same flows by replaying them as NetFlow v5 datagrams
# into nfcapd on loopback with our flow-send.
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWS=${FLOWS:-20000000}
RUNS=${RUNS:-3}
WORK=${WORK:-${TMPDIR:-/tmp}/flowbench-export}
PORT=${PORT:-29556}
SEND_RATE=${SEND_RATE:-400000}
NFDUMP=${NFDUMP:-1}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bins
  BIN=target/release
fi
FLOW_SEND=${FLOW_SEND:-$BIN/flow-send}

if [ "$NFDUMP" = 1 ] && ! command -v nfdump >/dev/null; then
  echo "installing nfdump from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nfdump >/dev/null || NFDUMP=0
fi

mkdir -p "$WORK"
ours="$WORK/flows"
nfd="$WORK/nfdump"
if [ ! -f "$WORK/.generated-$FLOWS" ]; then
  rm -rf "$ours" "$nfd" "$WORK"/.generated-*
  mkdir -p "$ours"
  echo "generating $FLOWS flows into 5-minute native files" >&2
  "$BIN/flow-gen" --count "$FLOWS" --native --split-5min -o "$ours"
  touch "$WORK/.generated-$FLOWS"
fi
if [ "$NFDUMP" = 1 ] && [ ! -f "$WORK/.nfdump-$FLOWS" ]; then
  rm -rf "$nfd"; mkdir -p "$nfd"
  echo "replaying them into nfcapd at $SEND_RATE flows/s" >&2
  nfcapd -p "$PORT" -b 127.0.0.1 -w "$nfd" -t 3600 -B 33554432 >"$WORK/nfcapd.log" 2>&1 &
  nfpid=$!
  sleep 1
  "$BIN/flow-cat" "$ours" | "$FLOW_SEND" --rate "$SEND_RATE" "127.0.0.1/$PORT"
  sleep 2
  kill -TERM "$nfpid"; wait "$nfpid" || true
  touch "$WORK/.nfdump-$FLOWS"
fi

native_bytes=$(du -sb "$ours" | cut -f1)
echo "flows: $FLOWS; native files: $native_bytes bytes, $(awk -v b="$native_bytes" -v n="$FLOWS" 'BEGIN{printf "%.2f", b/n}') bytes/flow"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# measure LABEL OUTPUT CMD: RUNS runs; prints medians and the output size
measure() {
  local label=$1 out=$2; shift 2
  local f="$WORK/times"
  : > "$f"
  for _ in $(seq "$RUNS"); do
    rm -rf "$out"
    /usr/bin/time -f "%e %U %S %M" -a -o "$f" bash -c "$*" >/dev/null
  done
  local size
  size=$(du -sb "$out" 2>/dev/null | cut -f1 || echo 0)
  sort -n -k1 "$f" | awk -v n="$FLOWS" -v runs="$RUNS" -v label="$label" -v size="$size" '
    { wall[NR] = $1; cpu[NR] = $2 + $3; rss[NR] = $4 }
    END {
      m = int((NR + 1) / 2); w = wall[m]
      # median CPU time, separately sorted
      for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++) if (cpu[j] < cpu[i]) { t = cpu[i]; cpu[i] = cpu[j]; cpu[j] = t }
      c = cpu[m]; r = 0; for (i = 1; i <= NR; i++) if (rss[i] > r) r = rss[i]
      printf "%-34s wall %7.2fs %6.2f M flows/s | cpu %7.2fs %6.2f M flows/cpu-s | rss %5.0f MB | %7.2f bytes/flow\n",
        label, w, n / w / 1e6, c, n / c / 1e6, r / 1024, size / n
    }'
}

measure "flow-export -f parquet" "$WORK/out.parquet" "$BIN/flow-export -f parquet -o $WORK/out.parquet $ours"
measure "flow-export -f parquet --addr-strings" "$WORK/out-s.parquet" "$BIN/flow-export -f parquet --addr-strings -o $WORK/out-s.parquet $ours"
measure "flow-export -f parquet --partition hour" "$WORK/table" "$BIN/flow-export -f parquet --partition hour -o $WORK/table $ours"
measure "flow-export -f csv" "$WORK/out.csv" "$BIN/flow-export -f csv -o $WORK/out.csv $ours"
measure "flow-export -f csv > /dev/null" "$WORK/none" "$BIN/flow-export -f csv $ours"
if [ "$NFDUMP" = 1 ]; then
  stored=$(nfdump -R "$nfd" -I 2>/dev/null | awk '/^Flows:/ {print $2; exit}')
  echo "$(nfdump -V 2>&1 | head -1) stored ${stored:-?} flows"
  measure "nfdump -o csv" "$WORK/nf.csv" "nfdump -R $nfd -o csv > $WORK/nf.csv"
fi
rm -rf "$WORK/out.parquet" "$WORK/out-s.parquet" "$WORK/table" "$WORK/out.csv" "$WORK/nf.csv"
