#!/usr/bin/env bash
# Measures message posting and search for docs/BENCHMARKS.md ("Message search (issue 24)"):
# 100,000 messages in 100 conversations posted through `Store::post_batch` in batches of 200,
# then 1,000 searches, on a fresh SQLite database and a fresh PostgreSQL one (dropped after).
# With BASE=<git ref> it also runs the same bench file on that ref (e.g. BASE=a18f3a4, the tree before the
# sealed messages: plaintext FTS5/pg_trgm), in a temporary worktree, for the comparison.
#
# Usage: bench/message-search.sh            # this tree
#        BASE=a18f3a4 bench/message-search.sh  # this tree, then a18f3a4
# Settings (environment): RENKEI_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres;
#   set it empty to skip PostgreSQL), CARGO_TARGET_DIR, PROFILE=release for an optimized build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
export RENKEI_TEST_POSTGRES_URL="${RENKEI_TEST_POSTGRES_URL-postgres://postgres@127.0.0.1:5432/postgres}"
[[ -n "$RENKEI_TEST_POSTGRES_URL" ]] || unset RENKEI_TEST_POSTGRES_URL
profile=()
[[ "${PROFILE:-dev}" == release ]] && profile=(--release)
bench=crates/renkei-store/tests/message_search_bench.rs

run() {
  echo "== $1"
  cargo test "${profile[@]}" -p renkei-store --test message_search_bench -- --ignored --nocapture 2>&1 \
    | grep -E '^(SQLite|PostgreSQL)|SKIPPED|panicked|test result'
}

run "$(git rev-parse --short HEAD) (this tree)"
if [[ -n "${BASE:-}" ]]; then
  tree="$(mktemp -d)"
  trap 'git worktree remove --force "$tree"' EXIT
  git worktree add --detach "$tree" "$BASE" >/dev/null
  cp "$bench" "$tree/$bench"
  (cd "$tree" && run "$(git rev-parse --short HEAD) ($BASE)")
fi
