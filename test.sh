#!/usr/bin/env bash
# The whole test suite: unit and integration tests of every crate, then the
# flow-tools golden corpus (../shared/golden/flowtools) against the release
# binaries, with the documented known differences.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --workspace --bins --locked
cargo test --workspace --release --locked
golden=../shared/golden/flowtools/run_cases.sh
if [ -x "$golden" ]; then
  FT_BIN=target/release "$golden" --known testdata/known-differences.txt
else
  echo "golden corpus not found at $golden (it sits beside the project in CI); skipped"
fi
