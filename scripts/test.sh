#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, the test suites on SQLite and PostgreSQL, then
# the web client: its build, its unit tests (Vitest) and its end-to-end journeys in Chromium.
#
# PostgreSQL: tests use RENKEI_TEST_POSTGRES_URL (default: the local server at
# postgres://postgres@127.0.0.1:5432/postgres), creating and dropping a fresh database per test.
# Without a reachable server the PostgreSQL half is skipped loudly (and fails under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs what is missing (quiet when nothing is; .ci/run has just done it).
[[ -n "${RENKEI_SETUP_DONE:-}" ]] || scripts/setup.sh

# One shared build folder, so repeated runs (and CI on this machine) rebuild only what changed.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"

pg_url="${RENKEI_TEST_POSTGRES_URL-postgres://postgres@127.0.0.1:5432/postgres}"
if [[ -n "$pg_url" ]] && pg_isready -q -d "$pg_url" 2>/dev/null; then
  export RENKEI_TEST_POSTGRES_URL="$pg_url"
  echo "test: PostgreSQL half enabled ($(sed -E 's#//([^:@/]+):[^@]*@#//\1@#' <<<"$pg_url"))"
elif [[ "${CI:-}" == "true" ]]; then
  echo "test: PostgreSQL is required under CI but ${pg_url:-<unset>} is not reachable" >&2
  exit 1
else
  unset RENKEI_TEST_POSTGRES_URL
  echo "test: WARNING: PostgreSQL not reachable: its half of every suite is SKIPPED"
fi

# An S3-compatible server for the object-store tests, when moto is installed (setup.sh does).
if command -v moto_server >/dev/null && [[ -z "${RENKEI_TEST_S3_URL:-}" ]]; then
  s3_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  moto_server -H 127.0.0.1 -p "$s3_port" >/dev/null 2>&1 &
  s3_pid=$!
  trap 'kill $s3_pid 2>/dev/null || true' EXIT
  export AWS_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test RENKEI_TEST_S3_URL=s3://renkei-test
  for _ in $(seq 50); do curl -s -o /dev/null "$AWS_ENDPOINT" && break; sleep 0.2; done
  curl -s -X PUT "$AWS_ENDPOINT/renkei-test" >/dev/null
  echo "test: S3 tests against a local moto server on port $s3_port"
else
  echo "test: WARNING: no S3-compatible server (moto): the S3 test is SKIPPED"
fi

# NATS for the tests of several nodes: RENKEI_TEST_NATS_URL, else one on 127.0.0.1:4222, else
# a nats-server of our own on a free port (setup.sh installs it).
if [[ -z "${RENKEI_TEST_NATS_URL:-}" ]] && ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null \
  && command -v nats-server >/dev/null; then
  nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  nats-server -a 127.0.0.1 -p "$nats_port" >/dev/null 2>&1 &
  nats_pid=$!
  trap 'kill ${s3_pid:-} $nats_pid 2>/dev/null || true' EXIT
  export RENKEI_TEST_NATS_URL="nats://127.0.0.1:$nats_port"
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$nats_port") 2>/dev/null && break; sleep 0.1; done
  echo "test: multi-node tests on a local nats-server on port $nats_port"
fi

# The single sign-on tests start a real OpenID provider (npm oidc-provider) on loopback; its
# packages install exactly as locked, only when missing or older than the lock file.
oidc_dir=crates/renkei/tests/oidc
if [[ ! -f $oidc_dir/node_modules/.package-lock.json \
  || $oidc_dir/package-lock.json -nt $oidc_dir/node_modules/.package-lock.json ]]; then
  (cd "$oidc_dir" && npm ci --no-audit --no-fund)
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo nextest run --workspace --locked
# schemathesis against the test build's binary, from the OpenAPI document: no 5xx, no response
# the document does not describe (SQLite, then PostgreSQL when it is reachable).
scripts/api-conformance.sh "$CARGO_TARGET_DIR/debug/renkei"
# The Debian package, built around the test build's binary, installed, run and purged.
scripts/package-test.sh "$CARGO_TARGET_DIR/debug/renkei"

# ---- the web client (web/) ----
web_skip() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "test: $1 (required under CI)" >&2
    exit 1
  fi
  echo "test: WARNING: $1: the web client's tests are SKIPPED"
}
web_started=$SECONDS
if ! command -v npm >/dev/null; then
  web_skip "npm is missing (run scripts/setup.sh)"
elif [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
  web_skip "Chromium is missing (run scripts/setup.sh)"
else
  (
    cd web
    # npm ci only when node_modules is missing or older than the lock file.
    if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
      npm ci --no-audit --no-fund
    fi
    # The API's types are generated from the committed OpenAPI document (web/openapi.json, held
    # to the server's by crates/renkei/tests/openapi_copy.rs): regenerating them changes nothing.
    npm run --silent check:api
    npm run build
    npm test
    # Rebuilds the binary (now embedding web/dist), starts it and drives Chromium: the chat
    # journeys, then every other file of journeys (e2e/*.journeys.mjs).
    node e2e/journeys.mjs
    for journeys in e2e/*.journeys.mjs; do
      if [[ -f "$journeys" ]]; then node "$journeys"; fi
    done
  )
  echo "test: web client checked in $((SECONDS - web_started)) s"
fi
