#!/usr/bin/env bash
# Measures chat delivery for docs/BENCHMARKS.md ("Chat delivery (issue 3)"): a fresh server on
# SQLite, then on PostgreSQL (a fresh database, dropped after), each driven by
# `renkei-bench chat` on the same machine; prints one result row per database.
#
# Usage: bench/chat.sh [sqlite] [postgres]      (both when none is named)
# Settings (environment): CLIENTS=2000 GROUP=10 RATE=1000 DURATION=30 WARMUP=5 PORT=18100
#   PG_URL=postgres://postgres@127.0.0.1:5432   CARGO_TARGET_DIR to reuse a release build,
#   SERVER_BIN to measure another renkei binary (e.g. a patched build) with the same generator,
#   CLIENT=python to drive the load with bench/chat_client.py (an independent asyncio client in
#   its own process) instead of renkei-bench; renkei-bench still creates the users.
#   SLOW_LOG=F (python client): every delivery over 100 ms with its wall-clock send time;
#   SERVER_LOG=filter and LOG_DIR=D keep the server's log (D/<backend>.server.log).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
# The server serves /metrics only with this token; renkei-bench reads the same variable.
export RENKEI_METRICS_TOKEN="${RENKEI_METRICS_TOKEN:-bench-metrics-token}"
CLIENTS=${CLIENTS:-2000}
GROUP=${GROUP:-10}
RATE=${RATE:-1000}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
PORT=${PORT:-18100}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
backends=("$@")
[[ ${#backends[@]} -gt 0 ]] || backends=(sqlite postgres)

# Each side holds one socket per client, plus the server's database connections.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < CLIENTS + 1024 )); then
  echo "bench: the open-file limit $(ulimit -n) is too low for $CLIENTS clients" >&2
  exit 1
fi

cargo build --release --locked -p renkei -p renkei-bench
bin="${SERVER_BIN:-$CARGO_TARGET_DIR/release/renkei}"
bench="$CARGO_TARGET_DIR/release/renkei-bench"
work=$(mktemp -d)
pg_db=""
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n $pg_db ]] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# start_server, stop_server: the server under test (extra arguments: storage flags).
source bench/server.sh

rows=()
for backend in "${backends[@]}"; do
  storage=()
  case $backend in
    sqlite) ;;
    postgres)
      pg_db="renkei_bench_chat_$$"
      psql "$PG_URL/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
      storage=(--database-url "$PG_URL/$pg_db") ;;
    *) echo "bench: unknown backend $backend (sqlite, postgres)" >&2; exit 1 ;;
  esac
  password=""
  start_server "$backend" "${storage[@]}"
  [[ -n $password ]] || { echo "bench: no first-start password from the server" >&2; exit 1; }
  args=(--server "http://127.0.0.1:$PORT" --admin-password "$password" --clients "$CLIENTS"
        --token-cache "$work/$backend.tokens")
  # Setup signs every user in (a password hash each); restart the server afterwards so the
  # run's memory figure is the messaging's, not what the hashing left behind.
  echo "== $backend: setting up $CLIENTS users" >&2
  "$bench" chat "${args[@]}" --setup-only
  stop_server
  start_server "$backend" "${storage[@]}"
  echo "== $backend: $CLIENTS clients, groups of $GROUP, $RATE msg/s, ${WARMUP}+${DURATION} s" >&2
  status=0
  if [[ ${CLIENT:-} == python ]]; then
    python3 bench/chat_client.py --server "http://127.0.0.1:$PORT" --token-cache "$work/$backend.tokens" \
      --clients "$CLIENTS" --group-size "$GROUP" --rate "$RATE" --duration "$DURATION" \
      --warmup "$WARMUP" --server-pid "$server_pid" --label "$backend" \
      --slow-log "${SLOW_LOG:-/dev/null}" | tee "$work/$backend.row" || status=$?
  else
    "$bench" chat "${args[@]}" --group-size "$GROUP" --rate "$RATE" \
      --duration "$DURATION" --warmup "$WARMUP" --server-pid "$server_pid" --label "$backend" \
      | tee "$work/$backend.row" || status=$?
  fi
  (( status == 0 )) || echo "bench: $backend run was incomplete (exit $status)" >&2
  [[ -z ${LOG_DIR:-} ]] || cp "$work/$backend.err" "$LOG_DIR/$backend.server.log"
  rows+=("$(tail -n 1 "$work/$backend.row")")
  header=$(head -n 2 "$work/$backend.row")
  stop_server
  if [[ $backend == postgres ]]; then
    psql "$PG_URL/postgres" -qc "DROP DATABASE $pg_db" >/dev/null
    pg_db=""
  fi
done

echo
echo "$header"
printf '%s\n' "${rows[@]}"
