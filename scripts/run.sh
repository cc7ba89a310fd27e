#!/usr/bin/env bash
# Installs what is missing, builds the web client and the release binary, then serves renkei on
# the embedded default: SQLite and local files in ./renkei-data, http://127.0.0.1:8080.
# On the first start `serve` prints the administrator's one-time password (once).
# Extra arguments go to `renkei serve` (e.g. scripts/run.sh --listen 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"

scripts/setup.sh
(
  cd web
  # npm ci only when node_modules is missing or older than the lock file.
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
  fi
  npm run --silent build >/dev/null
)
[[ -x "$CARGO_TARGET_DIR/release/renkei" ]] \
  || echo "run: building the release binary (the first build takes several minutes)"
cargo build --release --locked --quiet -p renkei
exec "$CARGO_TARGET_DIR/release/renkei" serve "$@"
