#!/usr/bin/env bash
# API conformance: schemathesis (property-based, from /api/openapi.json) against a fresh renkei
# server, signed in as the first organization's administrator. Fails on any 5xx, any response
# whose status, content type, headers or body break the document, and on a panic in the
# server's log. Deterministic (--generation-deterministic) and bounded (--max-examples), so a
# run takes a few minutes; the figures and what it found are in docs/SECURITY.md.
#
#   scripts/api-conformance.sh [PATH-TO-renkei]   (default: $CARGO_TARGET_DIR/debug/renkei)
#
# SQLite in a temporary data folder; then PostgreSQL too, on a scratch database, when
# RENKEI_TEST_POSTGRES_URL is set. RENKEI_CONFORMANCE_EXAMPLES changes the examples per
# operation (default 20); RENKEI_CONFORMANCE_KEEP=1 keeps the folder (logs, reports).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
binary="${1:-$CARGO_TARGET_DIR/debug/renkei}"
examples="${RENKEI_CONFORMANCE_EXAMPLES:-20}"
[[ -x "$binary" ]] || { echo "api-conformance: no binary at $binary (cargo build -p renkei)" >&2; exit 1; }
if ! command -v st >/dev/null; then
  if [[ "${CI:-}" == "true" ]]; then echo "api-conformance: schemathesis is required under CI" >&2; exit 1; fi
  echo "api-conformance: WARNING: schemathesis is missing (scripts/setup.sh): the API conformance run is SKIPPED"
  exit 0
fi

work=$(mktemp -d)
server_pid=""
scratch_db=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -n "$scratch_db" ]]; then
    psql -q "$RENKEI_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $scratch_db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [[ -n "${RENKEI_CONFORMANCE_KEEP:-}" ]]; then echo "api-conformance: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# One JSON field of standard input.
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Starts `renkei serve` on a new data folder (and database URL $2, if any); sets $base.
start_server() {
  local name=$1 database_url=${2:-}
  local dir="$work/$name"
  mkdir -p "$dir"
  local args=(serve --data-dir "$dir/data" --listen 127.0.0.1:0)
  [[ -n "$database_url" ]] && args+=(--database-url "$database_url")
  # The call relay's UDP port must not collide with a server already running here. A public
  # address on localhost turns passkeys on, so their operations are exercised too.
  RENKEI_CALL_UDP_LISTEN=127.0.0.1:0 RENKEI_PUBLIC_URL=http://localhost "$binary" "${args[@]}" >"$dir/stdout" 2>"$dir/stderr" &
  server_pid=$!
  base=""
  for _ in $(seq 300); do
    base=$(sed -n 's/^renkei listening on \([^ ]*\).*/\1/p' "$dir/stdout" | head -1)
    [[ -n "$base" ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$base" ]] || { cat "$dir/stderr" >&2; echo "api-conformance: the server did not start" >&2; exit 1; }
  [[ $base == http* ]] || base="http://$base"
}

# Signs in as the first administrator and replaces the one-time password (so no request is
# refused with password_change_required); sets $token. No second factor or passcode is
# required by the first organization's default policy.
sign_in() {
  local dir="$work/$1" one_time password="conformance password 2026"
  one_time=$(sed -n 's/^ *password: *\([^ ]*\)$/\1/p' "$dir/stdout" | head -1)
  [[ -n "$one_time" ]] || { echo "api-conformance: no one-time password printed" >&2; exit 1; }
  token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"login\":\"admin\",\"password\":\"$one_time\"}" | field token)
  curl -sf -X PUT "$base/api/v1/me/password" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d "{\"current_password\":\"$one_time\",\"new_password\":\"$password\"}" >/dev/null
  local me
  me=$(curl -sf "$base/api/v1/me" -H "authorization: Bearer $token") \
    || { echo "api-conformance: the session cannot read /me" >&2; exit 1; }
  # The hooks keep changes off the administrator's own user and organization.
  RENKEI_CONFORMANCE_USER_ID=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["id"])' <<<"$me")
  RENKEI_CONFORMANCE_ORG_ID=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["org_id"])' <<<"$me")
  export RENKEI_CONFORMANCE_USER_ID RENKEI_CONFORMANCE_ORG_ID
}

# Runs schemathesis against the server at $base; returns its status.
run_schemathesis() {
  local dir="$work/$1"
  # Excluded, so the signed-in session survives the random run (each is covered by its own
  # integration tests): logout ends it; a new password or passcode, the second factor's
  # enrollment and a wrong passcode at unlock (after a passcode was set) change what the
  # session may do or lock the account and end every session.
  # Run from the temporary folder: schemathesis leaves a .schemathesis/ cache where it runs.
  (cd "$dir" && RENKEI_TOKEN="$token" SCHEMATHESIS_HOOKS="$root/scripts/api-conformance-hooks.py" \
  st --no-color --config-file "$root/scripts/api-conformance.toml" run "$base/api/openapi.json" \
    --checks all \
    --max-examples "$examples" \
    --generation-deterministic \
    --workers 1 \
    --request-timeout 30 \
    --suppress-health-check all \
    --exclude-operation-id logout \
    --exclude-operation-id change_password \
    --exclude-operation-id set_passcode \
    --exclude-operation-id unlock \
    --exclude-operation-id start_enrollment \
    --exclude-operation-id confirm_enrollment \
    --report junit,har --report-dir "$dir/report" \
    >"$dir/schemathesis.log" 2>&1)
}

# One full run on one database: start, sign in, test, look for panics.
check() {
  local name=$1 database_url=${2:-} started=$SECONDS status=0
  start_server "$name" "$database_url"
  sign_in "$name"
  run_schemathesis "$name" || status=$?
  tail -n 40 "$work/$name/schemathesis.log"
  if grep -q "panicked" "$work/$name/stderr"; then
    grep -B2 -A8 "panicked" "$work/$name/stderr" >&2
    echo "api-conformance: the server panicked ($name)" >&2
    status=1
  fi
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  if ((status != 0)); then
    echo "api-conformance: FAIL on $name after $((SECONDS - started)) s (log: $work/$name/schemathesis.log)" >&2
    RENKEI_CONFORMANCE_KEEP=1
    exit 1
  fi
  echo "api-conformance: $name passed in $((SECONDS - started)) s"
}

check sqlite
if [[ -n "${RENKEI_TEST_POSTGRES_URL:-}" ]] && pg_isready -q -d "$RENKEI_TEST_POSTGRES_URL" 2>/dev/null; then
  scratch_db="renkei_conformance_$$"
  psql -q "$RENKEI_TEST_POSTGRES_URL" -c "CREATE DATABASE $scratch_db" >/dev/null
  check postgres "$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$RENKEI_TEST_POSTGRES_URL" "$scratch_db")"
fi
