#!/usr/bin/env bash
# Several nodes for docs/BENCHMARKS.md ("Several nodes (issue 21)"). Two modes:
#
#   compare (default): PostgreSQL + NATS + HAProxy (deploy/haproxy.cfg with local addresses).
#     The same users and load twice in one run: first ONE node behind HAProxy (its in-process
#     bus, no NATS: today's single node), then TWO nodes behind HAProxy on NATS. The load is
#     bench/chat_client.py (an independent Python asyncio client) through HAProxy, which names
#     each socket's node (X-Served-By), so deliveries to a member on another node than the
#     sender's are reported apart (cross-node p50/p99). CPU per acknowledged message of the
#     renkei processes (summed), PostgreSQL and NATS, from /proc.
#   ceiling: ONE node, on SQLite then on PostgreSQL, CLIENTS=10000 sockets, the rate raised
#     step by step (RATES) until delivery p99 reaches 100 ms; the highest rate under it is the
#     ceiling. The load is renkei-bench (CLIENT=python for chat_client.py), since 50,000
#     deliveries/s is beyond one Python process.
#
# Usage: SERVER_BIN=/path/to/release/renkei bench/cluster.sh [compare|ceiling]
# Settings (environment): CLIENTS (2000; ceiling 10000) GROUP=10 RATE=1000 (compare)
#   RATES="1000 2000 3000 4000 5000 6000 7000 8000" (ceiling) DURATION=30 WARMUP=5
#   PORT=18200 (node A; B, HAProxy and NATS take the next three) PG_URL=postgres://postgres@127.0.0.1:5432
#   BENCH_BIN (renkei-bench; default: built in release next to the usual target folder)
#   LOG_DIR=D keeps the nodes' logs. Output: Markdown rows on stdout (details on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-compare}
[[ -n ${SERVER_BIN:-} && -x ${SERVER_BIN:-} ]] || {
  echo "bench: set SERVER_BIN to a renkei binary (a release build: cargo build --release -p renkei)" >&2
  exit 1
}
bin=$SERVER_BIN
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
if [[ -z ${BENCH_BIN:-} ]]; then
  cargo build --release --locked -p renkei-bench
  BENCH_BIN="$CARGO_TARGET_DIR/release/renkei-bench"
fi
export RENKEI_METRICS_TOKEN="${RENKEI_METRICS_TOKEN:-bench-metrics-token}"
case $mode in
  compare) CLIENTS=${CLIENTS:-2000} ;;
  ceiling) CLIENTS=${CLIENTS:-10000} ;;
  *) echo "bench: unknown mode $mode (compare, ceiling)" >&2; exit 1 ;;
esac
GROUP=${GROUP:-10}
RATE=${RATE:-1000}
RATES=${RATES:-1000 2000 3000 4000 5000 6000 7000 8000}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-5}
PORT=${PORT:-18200}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
port_a=$PORT port_b=$((PORT + 1)) port_lb=$((PORT + 2)) port_nats=$((PORT + 3))
# Nodes of one deployment share the master key (docs/DEPLOYMENT.md).
MASTER_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=

# Every client holds a socket (two through HAProxy), plus the nodes' database connections.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < 2 * CLIENTS + 2048 )); then
  echo "bench: the open-file limit $(ulimit -n) is too low for $CLIENTS clients" >&2
  exit 1
fi

work=$(mktemp -d)
pg_db=""
pids=()
cleanup() {
  for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n $pg_db ]] && psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1
  [[ -z ${LOG_DIR:-} ]] || cp "$work"/*.err "$LOG_DIR"/ 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# start_server, stop_server (bench/server.sh) start one node on $PORT; SERVER_ENV adds settings.
source bench/server.sh

# start_node NAME PORT [NAME=value...]: a node on PORT with the shared settings and the extra
# ones; sets server_pid.
start_node() {
  local name=$1 port=$2; shift 2
  # Two nodes on one machine cannot share the call relay's UDP port.
  SERVER_ENV=(RENKEI_MASTER_KEY=$MASTER_KEY RENKEI_CALL_UDP_LISTEN=127.0.0.1:0 "$@")
  PORT=$port start_server "$name" "${storage[@]}"
  pids+=("$server_pid")
}

fresh_postgres() {
  pg_db="renkei_bench_cluster_$$"
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
  storage=(--database-url "$PG_URL/$pg_db")
}

drop_postgres() {
  psql "$PG_URL/postgres" -qc "DROP DATABASE $pg_db" >/dev/null
  pg_db=""
}

# The delivery p99 (ms) of a result row, from its table header ("delivery p50 / p99 ...").
p99_of() {
  python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
rows = [l for l in lines if l.startswith("|") and not l.startswith("|---")]
header, row = rows[0].split("|"), rows[-1].split("|")
column = next(i for i, h in enumerate(header) if h.strip().startswith("delivery p50"))
numbers = re.findall(r"[0-9.]+", row[column])
print(numbers[1] if len(numbers) > 1 else "inf")
PY
}

# Waits until HAProxy's admin socket shows `want` servers UP in renkei_http (at most 30 s).
until_up() {
  local want=$1
  for _ in $(seq 300); do
    local up
    up=$(python3 - "$work/admin.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError:
    print(0); sys.exit()
s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
lines = data.decode().splitlines()
head = lines[0].lstrip("# ").split(",")
px, sv, st = head.index("pxname"), head.index("svname"), head.index("status")
print(sum(1 for l in lines[1:] if l.split(",")[px:px + 1] == ["renkei_http"]
          and l.split(",")[sv].startswith("renkei") and l.split(",")[st] == "UP"))
PY
)
    (( up == want )) && return 0
    sleep 0.1
  done
  echo "bench: HAProxy did not see $want node(s) up" >&2
  exit 1
}

compare() {
  command -v haproxy >/dev/null || { echo "bench: haproxy is not installed (scripts/setup.sh)" >&2; exit 1; }
  command -v nats-server >/dev/null || { echo "bench: nats-server is not installed (scripts/setup.sh)" >&2; exit 1; }
  fresh_postgres
  nats-server -a 127.0.0.1 -p "$port_nats" >/dev/null 2>&1 &
  local nats_pid=$!
  pids+=("$nats_pid")
  # deploy/haproxy.cfg with local addresses, HTTP only, and each response naming its node.
  python3 - "$work" "$port_lb" "$port_a" "$port_b" >"$work/haproxy.cfg" <<'PY'
import sys
work, lb, a, b = sys.argv[1:]
out, section, skip = [], "", False
for line in open("deploy/haproxy.cfg"):
    words = line.split()
    if words[:1] in (["frontend"], ["backend"]):
        section = words[1]
        skip = section == "renkei_dicom"
    if skip or words[:1] == ["log"] and section == "":
        continue
    if words[:1] == ["bind"]:
        line = f"    bind 127.0.0.1:{lb}\n"
    elif words[:2] == ["stats", "socket"]:
        line = f"    stats socket {work}/admin.sock mode 600 level admin\n"
    elif words[:1] == ["server"]:
        if words[1] != "renkei1":
            continue
        line = (f"    server renkei1 127.0.0.1:{a}\n    server renkei2 127.0.0.1:{b}\n"
                "    http-response set-header X-Served-By %s\n")
    out.append(line)
sys.stdout.write("".join(out))
PY
  haproxy -c -q -f "$work/haproxy.cfg"
  haproxy -db -f "$work/haproxy.cfg" >/dev/null 2>"$work/haproxy.err" &
  pids+=("$!")
  local lb="http://127.0.0.1:$port_lb"

  # One node, on its own bus: the single-node figure. Node B is not running yet, so HAProxy
  # sends everything to A.
  password=""
  start_node a "$port_a"
  local a_pid=$server_pid
  until_up 1
  echo "== setting up $CLIENTS users (through HAProxy)" >&2
  "$BENCH_BIN" chat --server "$lb" --admin-password "$password" --clients "$CLIENTS" \
    --token-cache "$work/tokens" --setup-only
  run_python "1 node" "$lb" --server-pid "$a_pid"
  kill "$a_pid"; wait "$a_pid" 2>/dev/null || true

  # Two nodes on NATS, the same users, the same load.
  local nats=(RENKEI_NATS_URL="nats://127.0.0.1:$port_nats" RENKEI_NATS_SUBJECT_PREFIX="bench$$")
  start_node a "$port_a" "${nats[@]}"
  a_pid=$server_pid
  start_node b "$port_b" "${nats[@]}"
  local b_pid=$server_pid
  until_up 2
  run_python "2 nodes" "$lb" --server-pid "$a_pid" --server-pid "$b_pid" --bus-pid "$nats_pid"
  kill "$a_pid" "$b_pid"; wait "$a_pid" "$b_pid" 2>/dev/null || true
  drop_postgres
}

# run_python LABEL URL [chat_client.py arguments...]: one measured run; its row is kept.
run_python() {
  local label=$1 url=$2; shift 2
  echo "== $label: $CLIENTS clients, groups of $GROUP, $RATE msg/s, ${WARMUP}+${DURATION} s" >&2
  python3 bench/chat_client.py --server "$url" --token-cache "$work/tokens" \
    --clients "$CLIENTS" --group-size "$GROUP" --rate "$RATE" --duration "$DURATION" \
    --warmup "$WARMUP" --label "$label" "$@" >"$work/row" \
    || echo "bench: $label run was incomplete" >&2
  cat "$work/row" >&2
  header=$(head -n 2 "$work/row")
  rows+=("$(tail -n 1 "$work/row")")
}

# ceiling BACKEND: one node, CLIENTS sockets, RATES in turn until p99 >= 100 ms.
ceiling() {
  local backend=$1 best="none"
  storage=()
  [[ $backend == postgres ]] && fresh_postgres
  password=""
  start_node "ceiling-$backend" "$port_a"
  local pid=$server_pid url="http://127.0.0.1:$port_a"
  echo "== $backend: setting up $CLIENTS users" >&2
  local cache="$work/$backend.tokens"
  "$BENCH_BIN" chat --server "$url" --admin-password "$password" --clients "$CLIENTS" \
    --token-cache "$cache" --setup-only
  for rate in $RATES; do
    echo "== $backend: $CLIENTS clients, groups of $GROUP, $rate msg/s, ${WARMUP}+${DURATION} s" >&2
    local status=0
    if [[ ${CLIENT:-} == python ]]; then
      python3 bench/chat_client.py --server "$url" --token-cache "$cache" --clients "$CLIENTS" \
        --group-size "$GROUP" --rate "$rate" --duration "$DURATION" --warmup "$WARMUP" \
        --server-pid "$pid" --label "$backend" >"$work/row" || status=$?
    else
      "$BENCH_BIN" chat --server "$url" --admin-password "$password" --clients "$CLIENTS" \
        --token-cache "$cache" --group-size "$GROUP" --rate "$rate" --duration "$DURATION" \
        --warmup "$WARMUP" --server-pid "$pid" --label "$backend" >"$work/row" || status=$?
    fi
    cat "$work/row" >&2
    header=$(head -n 2 "$work/row")
    rows+=("$(tail -n 1 "$work/row")")
    local p99
    p99=$(p99_of "$work/row")
    if (( status != 0 )) || ! python3 -c "import sys; sys.exit(not float('$p99') < 100)"; then
      echo "bench: $backend at $rate msg/s: p99 $p99 ms (status $status): the ceiling is below" >&2
      break
    fi
    best=$rate
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  ceilings+=("| $backend | $CLIENTS | $best |")
  [[ $backend == postgres ]] && drop_postgres
  return 0
}

rows=() ceilings=() header="" storage=()
case $mode in
  compare) compare ;;
  ceiling) ceiling sqlite; ceiling postgres ;;
esac
echo
echo "$header"
printf '%s\n' "${rows[@]}"
if [[ $mode == ceiling ]]; then
  echo
  echo "| database | sockets | highest msg/s with delivery p99 < 100 ms |"
  echo "|---|---:|---:|"
  printf '%s\n' "${ceilings[@]}"
fi
