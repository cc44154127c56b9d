#!/usr/bin/env bash
# Screenshots of flow-graph's HTML report in headless Chromium, desktop
# and phone sized, plus the PNG charts, for a person to look at.
#
#   bench/graph-screenshot.sh              # writes $OUT/*.png (default /tmp/flowgraph-shots)
#   OUT=shots FLOWS=200000 bench/graph-screenshot.sh
#
# Steps: build flow-graph and flow-gen; flow-gen writes FLOWS synthetic
# flows over 24 hours into 5-minute native files; flow-graph renders the
# HTML report and two PNG charts; Debian's chromium (installed when
# missing) screenshots the report at 1280x3000 and 390x5000 (a phone).
# Chromium runs headless with every background network feature off; the
# page itself fetches nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-${TMPDIR:-/tmp}/flowgraph-shots}
FLOWS=${FLOWS:-500000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$CARGO_TARGET_DIR/release

if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cargo build --release --quiet -p graph --bin flow-graph
cargo build --release --quiet -p testbed --bin flow-gen

mkdir -p "$OUT"
flows="$OUT/flows"
if [ ! -f "$OUT/.generated-$FLOWS" ]; then
  rm -rf "$flows"; mkdir -p "$flows"
  # 24 hours: FLOWS / 86400 flows per second of simulated time.
  rate=$(awk -v n="$FLOWS" 'BEGIN { printf "%.6f", n / 86400 }')
  "$BIN/flow-gen" --count "$FLOWS" --rate "$rate" --start "2026-11-21 00:00:00" \
    --native --split-5min -o "$flows"
  touch "$OUT/.generated-$FLOWS"
fi

window=(--since "2026-11-21 00:00" --until "2026-11-22 00:00")
TZ=${TZ:-Europe/Berlin} "$BIN/flow-graph" "$flows" "${window[@]}" --html "$OUT/report.html"
TZ=${TZ:-Europe/Berlin} "$BIN/flow-graph" "$flows" "${window[@]}" --by port -o "$OUT/port.png"
TZ=${TZ:-Europe/Berlin} "$BIN/flow-graph" "$flows" "${window[@]}" --by src --metric packets \
  -o "$OUT/src-packets.png" --width 800 --height 400

shot() { # NAME WIDTH HEIGHT
  local profile
  profile=$(mktemp -d)
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-extensions --hide-scrollbars \
    --user-data-dir="$profile" --window-size="$2,$3" \
    --screenshot="$OUT/$1.png" "file://$OUT/report.html" >/dev/null 2>&1 || true
  rm -rf "$profile"
  [ -s "$OUT/$1.png" ] || { echo "no screenshot $1" >&2; exit 1; }
}
shot desktop 1280 3000
shot phone 390 5200
ls -l "$OUT"/*.png
