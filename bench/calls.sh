#!/usr/bin/env bash
# Measures the group-call relay for docs/BENCHMARKS.md ("Calls (issue 20)"): rooms of 6 str0m
# client bots (canned frames, no encoding), each sending 1 video of ~500 kbit/s and 1 audio
# of 32 kbit/s through renkei-sfu on loopback. Prints forwarded streams per core of relay CPU,
# bot → relay → bot video frame latency (p50/p99), and RSS per room (relay and bots).
# Call set-up in Chromium (tap → first remote frame) is measured by bench/call-setup.sh.
#
# Usage: bench/calls.sh [ROOMS...]        (default: 1 4 8)
# Settings (environment): SECONDS_MEASURED=20 WARMUP=5 CARGO_TARGET_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
SECONDS_MEASURED=${SECONDS_MEASURED:-20}
WARMUP=${WARMUP:-5}
rooms=("$@")
[[ ${#rooms[@]} -gt 0 ]] || rooms=(1 4 8)

cargo build --release --locked -p renkei-sfu --example forwarding_bench
bench="$CARGO_TARGET_DIR/release/examples/forwarding_bench"
for n in "${rooms[@]}"; do
  echo "== $n room(s)"
  "$bench" "$n" "$SECONDS_MEASURED" "$WARMUP"
done
