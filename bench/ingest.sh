#!/usr/bin/env bash
# Ingest benchmark: how many flows per second can a collector store with
# zero loss? Four simulated exporters (127.0.0.2..5) push NetFlow v5
# datagrams on loopback at rising rates, each step STEP_SECS long, into
#   (a) our flow-capture (native files, zstd-compressed), and
#   (b) nfcapd from Debian's nfdump package (uncompressed nfcapd files),
# in the same run, one collector at a time. For every step it counts the
# flows stored (read back from the files) against the flows sent, and the
# collector's CPU time and peak RSS (GNU time). It prints a table and, per
# collector, the highest zero-loss rate, CPU seconds per million flows
# stored, bytes per flow on disk and peak RSS.
#
# The exporters are split between SENDERS flow-send processes (default 2)
# so that the sender is not the limit; the "achieved" column is the rate
# they really reached, and a zero-loss rate they could not reach is marked
# as a lower bound.
#
# Usage: bench/ingest.sh               (defaults below)
#        RATES="50000 100000" STEP_SECS=10 SENDERS=1 bench/ingest.sh
# Needs: nfdump (apt-get install nfdump), GNU time (/usr/bin/time).
# Everything runs on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

RATES=${RATES:-"250000 500000 1000000 2000000 2500000 3000000 3500000 4000000 4500000"}
STEP_SECS=${STEP_SECS:-10}
SENDERS=${SENDERS:-2}             # 1, 2 or 4 flow-send processes
RCVBUF=${RCVBUF:-33554432}        # the same socket buffer for both
PORT=${PORT:-39995}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release"
WORK=$(mktemp -d /tmp/ingest-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

command -v nfcapd >/dev/null || { echo "nfcapd not found: apt-get install nfdump" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time not found: apt-get install time" >&2; exit 1; }
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release -q -p collector -p query -p testbed --bins
fi

# count_ours DIR -> flows stored in finished files
count_ours() {
  "$BIN/flow-cat" "$1" 2>/dev/null | "$BIN/flow-stat" -f 0 | awk '/^Total Flows/ {print $NF; exit}'
}
# count_nfcapd DIR -> flows stored
count_nfcapd() {
  local n=0 f c
  for f in "$1"/nfcapd.*; do
    [ -e "$f" ] || continue
    c=$(nfdump -r "$f" -I 2>/dev/null | awk '/^Flows:/ {print $2; exit}')
    n=$((n + ${c:-0}))
  done
  echo "$n"
}

# run_one NAME RATE INPUT SENT -> "stored cpu_s rss_kb bytes"
run_one() {
  local name=$1 rate=$2 input=$3 dir="$WORK/$1-$2" tfile="$WORK/time-$1-$2"
  mkdir -p "$dir"
  case $name in
    ours)
      /usr/bin/time -f "%U %S %M" -o "$tfile" \
        "$BIN/flow-capture" -w "$dir" -N 0 --rcvbuf "$RCVBUF" "127.0.0.1/0/$PORT" 2>"$WORK/log-$name-$rate" &
      ;;
    nfcapd)
      /usr/bin/time -f "%U %S %M" -o "$tfile" \
        nfcapd -w "$dir" -b 127.0.0.1 -p "$PORT" -B "$RCVBUF" -t 3600 >"$WORK/log-$name-$rate" 2>&1 &
      ;;
  esac
  local tpid=$!
  sleep 1
  # SENDERS flow-send processes, each with its own exporters and a share
  # of the rate (one sender alone tops out near 4 M flows/s here)
  local s pids=()
  for ((s = 0; s < SENDERS; s++)); do
    "$BIN/flow-send" --rate "$((rate / SENDERS))" "127.0.0.1:$PORT" "$input.$s" 2>"$WORK/send-$name-$rate.$s" &
    pids+=($!)
  done
  wait "${pids[@]}"
  sleep 1
  # SIGTERM the collector (the child of time)
  kill -TERM $(cat "/proc/$tpid/task/$tpid/children") 2>/dev/null || true
  wait "$tpid" || true
  local stored
  if [ "$name" = ours ]; then stored=$(count_ours "$dir"); else stored=$(count_nfcapd "$dir"); fi
  read -r u s m <"$tfile"
  local bytes
  bytes=$(du -sb "$dir" | awk '{print $1}')
  # the rate the sender really achieved (it shares the cores)
  local achieved
  achieved=$(cat "$WORK/send-$name-$rate".* | grep -o '([0-9]* flows/s)' | tr -dc '0-9\n' | awk '{a += $1} END {print a + 0}')
  echo "${stored:-0} $(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}') $m $bytes ${achieved:-0}"
}

printf '%-7s %9s %9s %10s %10s %7s %8s %10s %9s %8s\n' collector rate/s achieved sent stored loss% cpu_s cpu_s/Mflow bytes/flow rss_MB
declare -A best cpu_per_m bpf rss limited cpm_at
for rate in $RATES; do
  n=$((rate * STEP_SECS))
  input="$WORK/input-$rate.nf"
  for ((s = 0; s < SENDERS; s++)); do
    # exporters 127.0.0.2.. split evenly between the senders
    exp=$(seq $((2 + s * 4 / SENDERS)) $((1 + (s + 1) * 4 / SENDERS)) | sed 's/^/127.0.0./' | paste -sd, -)
    "$BIN/flow-gen" --seed $((s + 1)) -n $((n / SENDERS)) --exporters "$exp" --rate $((rate / SENDERS)) -o "$input.$s" >/dev/null
  done
  for name in ours nfcapd; do
    read -r stored cpu m bytes achieved < <(run_one "$name" "$rate" "$input")
    loss=$(awk -v s="$stored" -v n="$n" 'BEGIN{printf "%.2f", 100*(n-s)/n}')
    cpm=$(awk -v c="$cpu" -v s="$stored" 'BEGIN{ if (s>0) printf "%.3f", c*1e6/s; else print "-"}')
    b=$(awk -v b="$bytes" -v s="$stored" 'BEGIN{ if (s>0) printf "%.1f", b/s; else print "-"}')
    printf '%-7s %9d %9d %10d %10d %7s %8s %10s %9s %8.1f\n' "$name" "$rate" "$achieved" "$n" "$stored" "$loss" "$cpu" "$cpm" "$b" "$(awk -v m="$m" 'BEGIN{print m/1024}')"
    cpm_at[$name,$rate]=$cpm
    if [ "$stored" -ge "$n" ]; then
      best[$name]=$rate; cpu_per_m[$name]=$cpm; bpf[$name]=$b
      # a step the sender could not keep up with proves only its own rate
      if [ "$achieved" -lt $((rate * 97 / 100)) ]; then limited[$name]=$achieved; else unset "limited[$name]"; fi
    fi
    r=$(awk -v m="$m" 'BEGIN{printf "%.1f", m/1024}')
    if [ -z "${rss[$name]:-}" ] || awk -v a="$r" -v b="${rss[$name]}" 'BEGIN{exit !(a>b)}'; then rss[$name]=$r; fi
  done
  rm -f "$input".*
  rm -rf "$WORK"/ours-* "$WORK"/nfcapd-*
done
echo
for name in ours nfcapd; do
  note=""
  [ -n "${limited[$name]:-}" ] && note=" (the sender reached only ${limited[$name]} flows/s there: a lower bound)"
  echo "$name: highest zero-loss rate ${best[$name]:-none} flows/s$note; at that rate ${cpu_per_m[$name]:--} CPU s per million flows stored, ${bpf[$name]:--} bytes per flow on disk; peak RSS ${rss[$name]:-?} MB"
done
if [ -n "${best[ours]:-}" ] && [ -n "${best[nfcapd]:-}" ]; then
  awk -v a="${best[ours]}" -v b="${best[nfcapd]}" -v ca="${cpu_per_m[ours]}" -v cb="${cpu_per_m[nfcapd]}" \
    'BEGIN{printf "ratio: zero-loss rate ours/nfcapd = %.2fx; CPU per million flows ours/nfcapd = %.2f\n", a/b, ca/cb}'
  # the same comparison at one rate: nfcapd's best, where both stored everything
  r=${best[nfcapd]}
  if [ -n "${cpm_at[ours,$r]:-}" ] && [ "${cpm_at[ours,$r]}" != - ]; then
    awk -v r="$r" -v ca="${cpm_at[ours,$r]}" -v cb="${cpu_per_m[nfcapd]}" \
      'BEGIN{printf "at nfcapd'"'"'s highest zero-loss rate (%d flows/s): CPU per million flows ours %.3f, nfcapd %.3f, ours/nfcapd = %.2f\n", r, ca, cb, ca/cb}'
  fi
fi
