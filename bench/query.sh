#!/usr/bin/env bash
# Whole-tool query benchmark: our flow-stat (fast path and classic pipe)
# against nfdump, over the same flows, in one run.
#
#   bench/query.sh                 # 20 M flows, 3 runs per measurement
#   FLOWS=2000000 RUNS=5 bench/query.sh
#
# Steps: build release binaries; flow-gen writes FLOWS synthetic flows into
# 5-minute native files; flow-send replays those same files as NetFlow v5
# datagrams into nfcapd on loopback (so nfdump stores the very same flows,
# honestly ingested); then each query runs RUNS times and the median wall
# time, flows/s and peak RSS are printed with the ratio to nfdump.
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWS=${FLOWS:-20000000}
RUNS=${RUNS:-3}
WORK=${WORK:-${TMPDIR:-/tmp}/flowbench-query}
PORT=${PORT:-29555}
SEND_RATE=${SEND_RATE:-400000}
BIN=${CARGO_TARGET_DIR:-target}/release

if ! command -v nfdump >/dev/null || ! command -v nfcapd >/dev/null; then
  echo "installing nfdump from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nfdump >/dev/null
fi
cargo build --release --quiet --bins

mkdir -p "$WORK"
ours="$WORK/ours"
nfd="$WORK/nfdump"
if [ ! -f "$WORK/.generated-$FLOWS" ]; then
  rm -rf "$ours" "$nfd"; mkdir -p "$ours" "$nfd"
  echo "generating $FLOWS flows into 5-minute native files" >&2
  "$BIN/flow-gen" --count "$FLOWS" --native --split-5min -o "$ours"
  echo "replaying them into nfcapd at $SEND_RATE flows/s" >&2
  nfcapd -p "$PORT" -b 127.0.0.1 -w "$nfd" -t 3600 -B 33554432 >"$WORK/nfcapd.log" 2>&1 &
  nfpid=$!
  sleep 1
  "$BIN/flow-cat" "$ours" | "$BIN/flow-send" --rate "$SEND_RATE" "127.0.0.1/$PORT"
  sleep 2
  kill -TERM "$nfpid"; wait "$nfpid" || true
  touch "$WORK/.generated-$FLOWS"
fi
stored=$(nfdump -R "$nfd" -I 2>/dev/null | awk '/^Flows:/ {print $2; exit}')
echo "flows: ours $FLOWS, nfdump stored ${stored:-?}" >&2

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

# measure NAME CMD...: median wall seconds and peak RSS (KiB) over RUNS runs
measure() {
  local name=$1; shift
  local times=() rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time.out" bash -c "$*" >/dev/null 2>"$WORK/err.out" || {
      echo "$name failed:" >&2; cat "$WORK/err.out" >&2; return 1; }
    read -r secs kib < "$WORK/time.out"
    times+=("$secs"); [ "$kib" -gt "$rss" ] && rss=$kib
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$med $rss"
}

row() { # label ours_cmd nfdump_cmd
  local label=$1 oc=$2 nc=$3
  read -r os orss < <(measure "$label (ours)" "$oc")
  local line
  line=$(awk -v l="$label" -v n="$FLOWS" -v os="$os" -v orss="$orss" \
    'BEGIN {printf "%-34s %8.2fs %10.2f M/s %8.0f MB", l, os, n/os/1e6, orss/1024}')
  if [ -n "$nc" ]; then
    read -r ns nrss < <(measure "$label (nfdump)" "$nc")
    line+=$(awk -v n="${stored:-$FLOWS}" -v ns="$ns" -v nrss="$nrss" -v os="$os" -v orss="$orss" \
      'BEGIN {printf " | nfdump %8.2fs %8.2f M/s %8.0f MB | speed x%.2f, RSS x%.3f", ns, n/ns/1e6, nrss/1024, ns/os, orss/nrss}')
  fi
  echo "$line"
}

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $FLOWS flows; median of $RUNS runs"
echo "query                              ours                               | peer"
row "(a) top sources  -f 9 -S 2" "$BIN/flow-stat -f 9 -S 2 $ours" "nfdump -R $nfd -s srcip/bytes -n 0"
row "(b) src/dst pairs -f 10 -S 2" "$BIN/flow-stat -f 10 -S 2 $ours" "nfdump -R $nfd -A srcip,dstip -O bytes"
row "(c) filtered -f 0 smtp" "$BIN/flow-stat -f 0 --filter-file $WORK/filter.cfg --filter smtp $ours" \
  "nfdump -R $nfd -o null 'proto tcp and dst port 25'"
row "(d) pipe flow-cat | -f 9 -S 2" "$BIN/flow-cat $ours | $BIN/flow-stat -f 9 -S 2" ""
row "(e) full -f 5" "$BIN/flow-stat -f 5 $ours" ""
