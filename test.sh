#!/usr/bin/env bash
# The whole test suite: unit and integration tests of every crate, then the
# flow-tools golden corpus (testdata/golden/flowtools) against the release
# binaries, with the documented known differences. Every input is committed
# under testdata/, so a fresh clone passes with nothing beside it; a test
# whose input is missing fails and says what to provide. The one exception,
# the realworld captures in ../shared/realworld (other projects' data, never
# committed), is skipped with "SKIPPED: ../shared/realworld not found"
# unless FLOWTOOLS_REQUIRE_REALWORLD=1 (.ci/run sets it) makes it fail.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --workspace --bins --locked
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# SKIPPED lines go straight to stderr (the harness does not capture them);
# keep a copy to list them again at the end.
cargo test --workspace --release --locked 2>&1 | tee "$log"
golden=testdata/golden/flowtools/run_cases.sh
if [ ! -x "$golden" ]; then
  echo "$golden missing or not executable: run from a full clone of the repository" >&2
  exit 1
fi
FT_BIN=target/release "$golden" --known testdata/known-differences.txt
if grep -q 'SKIPPED: ' "$log"; then
  echo "== checks skipped (optional peers, ../shared/realworld):"
  grep -o 'SKIPPED: .*' "$log" | sort | uniq -c
fi
