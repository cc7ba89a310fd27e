#!/usr/bin/env bash
# Measures the foundation's figures for docs/BENCHMARKS.md: start-up time on an empty database,
# idle memory, sign-ins per second, release binary size. Needs wrk (apt-get install wrk).
# Usage: bench/foundation.sh   (set CARGO_TARGET_DIR to reuse a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p renkei
bin="$CARGO_TARGET_DIR/release/renkei"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Start-up on an empty database: process start to "listening", first-admin creation included.
startups=()
for i in $(seq 10); do
  dir="$work/start$i"; mkdir -p "$dir"
  t0=$(date +%s%N)
  "$bin" serve --data-dir "$dir/data" --listen 127.0.0.1:0 >"$dir/out" 2>/dev/null &
  pid=$!
  until grep -q "renkei listening" "$dir/out" 2>/dev/null; do sleep 0.001; done
  t1=$(date +%s%N)
  startups+=($(( (t1 - t0) / 1000000 )))
  if [[ $i == 1 ]]; then
    sleep 2
    rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  fi
  kill $pid; wait $pid 2>/dev/null || true
done
startup_median=$(printf '%s\n' "${startups[@]}" | sort -n | sed -n 5p)

# Sign-ins per second on SQLite, 8 connections for 15 s.
dir="$work/login"; mkdir -p "$dir"
echo "bench password 2026" | "$bin" admin --data-dir "$dir/data" create-org --name "Bench Hospital" --slug bench >/dev/null
echo "bench password 2026" | "$bin" admin --data-dir "$dir/data" create-user --org bench --login bench --name Bench --profession doctor --password-stdin >/dev/null
RENKEI_LOGIN_ATTEMPTS_PER_MINUTE=100000000 RENKEI_LOG=warn "$bin" serve --data-dir "$dir/data" --listen 127.0.0.1:18099 >"$dir/out" 2>/dev/null &
until grep -q "renkei listening" "$dir/out" 2>/dev/null; do sleep 0.01; done
wrk -t2 -c8 -d15s -s bench/login.lua http://127.0.0.1:18099/api/v1/auth/login | tee "$work/wrk.txt"
logins=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $4}' "$work/wrk.txt")

size_mib=$(awk -v b="$(stat -c %s "$bin")" 'BEGIN {printf "%.1f", b / 1048576}')
echo
echo "start-up (median of 10, empty database): ${startup_median} ms"
echo "idle RSS after start: $((rss_kib / 1024)) MiB"
echo "sign-ins per second (SQLite, wrk -t2 -c8 -d15s): ${logins} (non-2xx: ${non2xx:-0})"
echo "release binary: ${size_mib} MiB"
