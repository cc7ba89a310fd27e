#!/usr/bin/env bash
# Measures directory search for docs/BENCHMARKS.md ("Directory search (issue 7)"): 50,000
# users over 30 hospitals generated straight into a fresh SQLite database, then into a fresh
# PostgreSQL database (dropped after); 1,000 timed searches (kanji, kana, half-width kana,
# romaji, e-mail, phone, department, profession; 1 to 8 characters; every fifth one a second
# page) within one hospital and within a hospital with 29 directory partners.
#
# Usage: bench/directory.sh
# Settings (environment): RENKEI_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres;
#   set it empty to skip PostgreSQL), CARGO_TARGET_DIR, PROFILE=release for an optimized build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
export RENKEI_TEST_POSTGRES_URL="${RENKEI_TEST_POSTGRES_URL-postgres://postgres@127.0.0.1:5432/postgres}"
[[ -n "$RENKEI_TEST_POSTGRES_URL" ]] || unset RENKEI_TEST_POSTGRES_URL
profile=()
[[ "${PROFILE:-dev}" == release ]] && profile=(--release)
cargo test "${profile[@]}" -p renkei-store --test directory_bench -- --ignored --nocapture 2>&1 \
  | grep -E '^(SQLite|PostgreSQL)|SKIPPED|panicked|test result'
