#!/usr/bin/env bash
# Measures Web Push for docs/BENCHMARKS.md ("Web Push (issue 19)"): a push service stand-in
# (renkei-push-standin) and a fresh server that may push to it; USERS users in groups of GROUP
# chat at RATE messages/s (each reaches GROUP-1 members: 200 msg/s in groups of 10 are 1,800
# pushes/s). Per database, on one server:
#   1. `renkei-bench chat` with nobody subscribed (push off): the chat baseline;
#   2. `renkei-bench push`: every user subscribed once at the stand-in, the same chat load:
#      commit → push accepted by the stand-in, the server's CPU per push, and chat's figures
#      with push on (its delivery p99 should stay within 10 % of step 1).
# The server is restarted before each step (same database), so each starts alike.
#
# Usage: bench/push.sh [sqlite] [postgres]      (both when none is named)
# Settings (environment): USERS=2000 GROUP=10 RATE=200 DURATION=30 WARMUP=5 PORT=18200
#   STANDIN_PORT=18765 PG_URL=postgres://postgres@127.0.0.1:5432 CARGO_TARGET_DIR,
#   SERVER_BIN to measure another renkei binary with the same generator.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
# The server serves /metrics only with this token; renkei-bench reads the same variable.
export RENKEI_METRICS_TOKEN="${RENKEI_METRICS_TOKEN:-bench-metrics-token}"
USERS=${USERS:-2000}
GROUP=${GROUP:-10}
RATE=${RATE:-200}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
PORT=${PORT:-18200}
STANDIN_PORT=${STANDIN_PORT:-18765}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
backends=("$@")
[[ ${#backends[@]} -gt 0 ]] || backends=(sqlite postgres)

ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < USERS + 1024 )); then
  echo "bench: the open-file limit $(ulimit -n) is too low for $USERS clients" >&2
  exit 1
fi

cargo build --release --locked -p renkei -p renkei-bench -p renkei-push-standin
bin="${SERVER_BIN:-$CARGO_TARGET_DIR/release/renkei}"
bench="$CARGO_TARGET_DIR/release/renkei-bench"
standin_bin="$CARGO_TARGET_DIR/release/renkei-push-standin"
work=$(mktemp -d)
pg_db=""
server_pid=""
standin_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n $standin_pid ]] && kill "$standin_pid" 2>/dev/null && wait "$standin_pid" 2>/dev/null
  [[ -n $pg_db ]] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# The stand-in, for every backend (its endpoints are per subscription, so runs do not mix). It
# answers before decrypting and decrypts when the generator reads /stats after the run, and it
# runs at the lowest priority (Linux's SCHED_IDLE, like the server's push lane): a real push
# service's CPU is elsewhere, and on this machine its work per push (an HTTP request) would
# compete with the server's chat.
chrt --idle 0 "$standin_bin" --port "$STANDIN_PORT" --decrypt-later >"$work/standin.out" 2>&1 &
standin_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/standin.out" 2>/dev/null && break
  kill -0 "$standin_pid" 2>/dev/null || { cat "$work/standin.out" >&2; exit 1; }
  sleep 0.1
done

# start_server, stop_server, with the stand-in allowed as a push service (http: on loopback).
SERVER_ENV=("RENKEI_PUSH_ENDPOINT_ALLOW=[\"127.0.0.1:$STANDIN_PORT\"]")
source bench/server.sh

chat_rows=()
push_rows=()
for backend in "${backends[@]}"; do
  storage=()
  case $backend in
    sqlite) ;;
    postgres)
      pg_db="renkei_bench_push_$$"
      psql "$PG_URL/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
      storage=(--database-url "$PG_URL/$pg_db") ;;
    *) echo "bench: unknown backend $backend (sqlite, postgres)" >&2; exit 1 ;;
  esac
  password=""
  start_server "$backend" "${storage[@]}"
  [[ -n $password ]] || { echo "bench: no first-start password from the server" >&2; exit 1; }
  args=(--server "http://127.0.0.1:$PORT" --admin-password "$password" --clients "$USERS"
        --token-cache "$work/$backend.tokens")
  echo "== $backend: setting up $USERS users" >&2
  "$bench" chat "${args[@]}" --setup-only
  run=(--group-size "$GROUP" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP")

  stop_server; start_server "$backend" "${storage[@]}"
  echo "== $backend: push off (nobody subscribed): $USERS clients, $RATE msg/s" >&2
  status=0
  "$bench" chat "${args[@]}" "${run[@]}" --server-pid "$server_pid" --label "$backend, push off" \
    | tee "$work/$backend.off" || status=$?
  (( status == 0 )) || echo "bench: $backend push-off run was incomplete (exit $status)" >&2
  chat_header=$(head -n 2 "$work/$backend.off")
  chat_rows+=("$(tail -n 1 "$work/$backend.off")")

  stop_server; start_server "$backend" "${storage[@]}"
  echo "== $backend: push on: every user subscribed at 127.0.0.1:$STANDIN_PORT" >&2
  status=0
  "$bench" push "${args[@]}" "${run[@]}" --server-pid "$server_pid" --label "$backend, push on" \
    --standin "http://127.0.0.1:$STANDIN_PORT" | tee "$work/$backend.on" || status=$?
  (( status == 0 )) || echo "bench: $backend push run was incomplete (exit $status)" >&2
  chat_rows+=("$(sed -n 3p "$work/$backend.on")")
  push_header=$(sed -n '5,6p' "$work/$backend.on")
  push_rows+=("$(tail -n 1 "$work/$backend.on")")
  stop_server
  if [[ $backend == postgres ]]; then
    psql "$PG_URL/postgres" -qc "DROP DATABASE $pg_db" >/dev/null
    pg_db=""
  fi
done

echo
echo "$chat_header"
printf '%s\n' "${chat_rows[@]}"
echo
echo "$push_header"
printf '%s\n' "${push_rows[@]}"
