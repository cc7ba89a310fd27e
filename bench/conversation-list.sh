#!/usr/bin/env bash
# Times the conversation list for docs/BENCHMARKS.md ("Conversation list (issue 18)"): a fresh
# server; through the API the first administrator creates PEERS nurses, then CONVERSATIONS
# conversations it belongs to (one direct conversation with each nurse, the rest groups with
# them), posts a message in each, and one nurse answers in every second one (unread for the
# administrator). Then `GET /api/v1/conversations` (as the administrator) is timed ROUNDS times
# with curl, one request after the other, after 3 unmeasured ones; p50, p95 and max are printed.
#
# Usage: bench/conversation-list.sh
# Settings (environment): CONVERSATIONS=500 PEERS=20 ROUNDS=50 PORT=18300 PROFILE=debug
#   DATABASE_URL (default: the embedded SQLite; a PostgreSQL URL to an empty database works
#   too); CARGO_TARGET_DIR to reuse a build; SERVER_BIN to time another renkei binary (e.g. the
#   build before a change) with the same data; COMPARE_BIN=<another renkei binary> then serves
#   the same database with it and checks that its list is byte for byte the same JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
CONVERSATIONS=${CONVERSATIONS:-500}
PEERS=${PEERS:-20}
ROUNDS=${ROUNDS:-50}
PORT=${PORT:-18300}
PROFILE=${PROFILE:-debug}
flag=()
[[ $PROFILE == release ]] && flag=(--release)
[[ -n ${SERVER_BIN:-} ]] || cargo build "${flag[@]}" --locked -p renkei
bin="${SERVER_BIN:-$CARGO_TARGET_DIR/$PROFILE/renkei}"
base="http://127.0.0.1:$PORT/api/v1"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

db=()
[[ -n ${DATABASE_URL:-} ]] && db=(--database-url "$DATABASE_URL")
# serve BINARY: starts BINARY on the benchmark's database and waits until it listens.
serve() {
  RENKEI_LOGIN_ATTEMPTS_PER_MINUTE=100000000 RENKEI_LOG=warn \
    "$1" serve --data-dir "$work/data" "${db[@]}" --listen "127.0.0.1:$PORT" >"$work/out" 2>"$work/err" &
  server_pid=$!
  for _ in $(seq 300); do
    grep -q "renkei listening" "$work/out" 2>/dev/null && return
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
    sleep 0.1
  done
}
serve "$bin"
one_time=$(sed -n 's/^ *password: *//p' "$work/out")
new_password="renkei bench admin 2026"

# call METHOD PATH TOKEN [JSON]: the answer's body; fails on an HTTP error.
call() {
  local args=(-sS --fail-with-body -X "$1" "$base$2" -H 'content-type: application/json')
  [[ -n $3 ]] && args+=(-H "authorization: Bearer $3")
  [[ -n ${4:-} ]] && args+=(-d "$4")
  curl "${args[@]}"
}
# session LOGIN ONE_TIME_PASSWORD: signs in, replaces the one-time password, prints the token.
session() {
  local token
  token=$(call POST /auth/login "" "{\"login\":\"$1\",\"password\":\"$2\"}" | jq -r .token)
  call PUT /me/password "$token" "{\"current_password\":\"$2\",\"new_password\":\"$new_password\"}" >/dev/null
  echo "$token"
}

admin=$(session admin "$one_time")
org=$(call GET /me "$admin" | jq -r .user.org_id)
peers=()
for i in $(seq "$PEERS"); do
  peers+=("$(call POST "/orgs/$org/users" "$admin" \
    "{\"login\":\"list-$i\",\"display_name\":\"List $i\",\"kana\":\"りすと\",\"profession\":\"nurse\",\"password\":\"one time list $i\"}" |
    jq -r .id)")
done
answerer=$(session list-1 "one time list 1")
for i in $(seq "$CONVERSATIONS"); do
  if ((i <= PEERS)); then
    body="{\"kind\":\"direct\",\"member_ids\":[\"${peers[i - 1]}\"]}"
  else
    body="{\"kind\":\"group\",\"title\":\"List $i\",\"member_ids\":[\"${peers[0]}\",\"${peers[i % (PEERS - 1) + 1]}\"]}"
  fi
  id=$(call POST /conversations "$admin" "$body" | jq -r .id)
  call POST "/conversations/$id/messages" "$admin" "{\"client_msg_id\":\"a-$i\",\"body\":\"message $i\"}" >/dev/null
  if ((i % 2 == 0 && i > PEERS)); then
    call POST "/conversations/$id/messages" "$answerer" "{\"client_msg_id\":\"b-$i\",\"body\":\"answer $i\"}" >/dev/null
  fi
done
listed=$(call GET /conversations "$admin" | jq length)
[[ $listed == "$CONVERSATIONS" ]] || { echo "listed $listed conversations, expected $CONVERSATIONS" >&2; exit 1; }

for _ in 1 2 3; do call GET /conversations "$admin" >/dev/null; done
for _ in $(seq "$ROUNDS"); do
  curl -sS -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $admin" "$base/conversations"
done | sort -n >"$work/times"
at() { sed -n "$(((ROUNDS * $1 + 99) / 100))p" "$work/times"; }
ms() { echo "$1 * 1000" | bc; }
printf 'conversations=%s rounds=%s p50=%.1f ms p95=%.1f ms max=%.1f ms bytes=%s binary=%s\n' \
  "$CONVERSATIONS" "$ROUNDS" "$(ms "$(at 50)")" "$(ms "$(at 95)")" "$(ms "$(tail -1 "$work/times")")" \
  "$(call GET /conversations "$admin" | tee "$work/list.json" | wc -c)" "$bin"
if [[ ${DATABASE_URL:-} == postgres* ]]; then
  # Transactions committed for one list (each statement outside a transaction is one), from
  # PostgreSQL's statistics, less those of an idle interval as long: the server's round trips
  # per list, the sign-in check's included.
  commits() {
    sleep 1.5
    psql -tAq "$DATABASE_URL" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
  }
  idle_start=$(commits)
  idle=$(($(commits) - idle_start))
  first=$(commits)
  for _ in $(seq 10); do call GET /conversations "$admin" >/dev/null; done
  echo "postgres transactions per list: $((($(commits) - first - idle) / 10)) (10 lists; $idle while idle)"
fi
if [[ -n ${COMPARE_BIN:-} ]]; then
  kill "$server_pid" && wait "$server_pid" || true
  serve "$COMPARE_BIN"
  call GET /conversations "$admin" >"$work/compared.json"
  cmp "$work/list.json" "$work/compared.json" && echo "same list from $COMPARE_BIN"
fi
