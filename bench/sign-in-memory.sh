#!/usr/bin/env bash
# Measures the server's memory after a shift change for docs/BENCHMARKS.md ("Sign-in memory
# (issue 17)"): a fresh server on SQLite; `renkei-bench chat --setup-only` creates USERS users,
# signs each in once with its one-time password and replaces it (about four Argon2id hashes per
# user); then the server's VmRSS (idle, 2 s after) and VmHWM (peak) are printed.
#
# Usage: bench/sign-in-memory.sh
# Settings (environment): USERS=2000 CONCURRENCY=8 PORT=18200 PROFILE=release
#   CARGO_TARGET_DIR to reuse a build; SERVER_BIN to measure another renkei binary (e.g. the
#   build before a change) with the same generator.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
USERS=${USERS:-2000}
CONCURRENCY=${CONCURRENCY:-8}
PORT=${PORT:-18200}
PROFILE=${PROFILE:-release}
flag=()
[[ $PROFILE == release ]] && flag=(--release)
cargo build "${flag[@]}" --locked -p renkei -p renkei-bench
bin="${SERVER_BIN:-$CARGO_TARGET_DIR/$PROFILE/renkei}"
bench="$CARGO_TARGET_DIR/$PROFILE/renkei-bench"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

RENKEI_LOGIN_ATTEMPTS_PER_MINUTE=100000000 RENKEI_LOG=warn \
  "$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$PORT" >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 300); do
  grep -q "renkei listening" "$work/out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
  sleep 0.1
done
password=$(sed -n 's/^ *password: *//p' "$work/out")
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$server_pid/status"; }
start_rss=$(kib VmRSS)
started=$(date +%s.%N)
"$bench" chat --server "http://127.0.0.1:$PORT" --admin-password "$password" \
  --clients "$USERS" --group-size 10 --setup-only --token-cache "$work/tokens" \
  --setup-concurrency "$CONCURRENCY" --login-prefix mem- >"$work/bench.out"
took=$(echo "$(date +%s.%N) - $started" | bc)
sleep 2
printf 'users=%s concurrency=%s seconds=%.0f rss_start=%s MiB rss_after=%s MiB rss_peak=%s MiB binary=%s\n' \
  "$USERS" "$CONCURRENCY" "$took" "$((start_rss / 1024))" "$(($(kib VmRSS) / 1024))" \
  "$(($(kib VmHWM) / 1024))" "$bin"
