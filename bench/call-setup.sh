#!/usr/bin/env bash
# Measures call set-up in Chromium on loopback for docs/BENCHMARKS.md ("Calls: set-up in
# Chromium"): N 1:1 video calls (after one warm-up) between two phone-sized contexts with the
# fake camera, through the web client and a real server. Prints p50 / p90 / max of call tap →
# ring shown on the callee, and answer tap → first remote frame on each side
# (web/e2e/call-setup.bench.mjs).
#
# Usage: bench/call-setup.sh [CALLS]        (default: 10)
# Settings (environment): SERVER_BIN (as in the other benchmarks) or RENKEI_BIN: the server
# binary to measure, e.g. "$CARGO_TARGET_DIR/release/renkei"; it must embed web/dist (built by
# `npm run build` before `cargo build`). Without either, the client is built and then a release
# binary. CHROMIUM, CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
calls=${1:-10}

RENKEI_BIN="${SERVER_BIN:-${RENKEI_BIN:-}}"
if [[ -n "$RENKEI_BIN" ]]; then
  RENKEI_BIN="$(realpath "$RENKEI_BIN")"
  export RENKEI_BIN
else
  (cd web && npm run build)
  cargo build --release --locked -p renkei
  export RENKEI_BIN="$CARGO_TARGET_DIR/release/renkei"
fi
cd web
node e2e/call-setup.bench.mjs "$calls"
