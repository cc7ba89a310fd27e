#!/usr/bin/env bash
# Makes the upgrade fixtures: a small database written by this release, kept so every later
# release proves it still opens (migrates) and reads it (crates/renkei/tests/upgrade.rs).
#
#   scripts/make-upgrade-fixture.sh [RENKEI_BINARY]
#
# Writes crates/renkei/tests/fixtures/upgrade-schema-N.sqlite and, when PostgreSQL answers at
# RENKEI_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
# upgrade-schema-N.pg.sql (pg_dump, plain SQL), N being the schema version, and a README line
# naming the commit that made them. The data: organization "fixture" with users doctor-a and
# nurse-b (password "fixture password 2026"), a group "Ward 3" with three messages, and one CT
# study (pydicom's CT_small.dcm over DICOM), under the master key RENKEI_MASTER_KEY below.
# Run it once per release that changes the schema; never regenerate an existing fixture (it
# stands for what that release wrote).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}/debug/renkei}"
[[ -x "$bin" ]] || { echo "no renkei binary at $bin (cargo build -p renkei)" >&2; exit 1; }
out=crates/renkei/tests/fixtures
mkdir -p "$out"
password="fixture password 2026"
one_time="fixture one-time password"
# The database holds keys sealed with the master key: a fixed one, known to the test (and no
# secret: a fixture holds no real data).
export RENKEI_MASTER_KEY="cmVua2VpIHVwZ3JhZGUgZml4dHVyZSwgbm8gc2VjcmU="
ct="$(python3 -c 'import pydicom,os;print(os.path.join(os.path.dirname(pydicom.__file__),"data","test_files","CT_small.dcm"))')"
pg_url="${RENKEI_TEST_POSTGRES_URL-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d)"
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# fill STORAGE_FLAGS...: starts a server on that storage, writes the data, stops it.
fill() {
  local admin=("$bin" admin "$@")
  "${admin[@]}" create-org --name "Fixture Hospital" --slug fixture >/dev/null
  for login in doctor-a nurse-b; do
    echo "$one_time" | "${admin[@]}" create-user --org fixture --login "$login" \
      --name "Fixture $login" --kana "ふぃくすちゃ" --profession doctor --password-stdin >/dev/null
  done
  "${admin[@]}" add-dicom-peer --org fixture --ae-title FIXTURE --allow 127.0.0.1 >/dev/null
  RENKEI_CALL_UDP_LISTEN=127.0.0.1:0 "$bin" serve "$@" --listen 127.0.0.1:0 \
    --dicom-listen 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr" &
  server=$!
  for _ in $(seq 100); do grep -q "DICOM listening on" "$work/stdout" && break; sleep 0.2; done
  local base dicom
  base="$(sed -n 's/^renkei listening on //p' "$work/stdout")"
  dicom="$(sed -n 's/^renkei DICOM listening on \([^ ]*\).*/\1/p' "$work/stdout")"
  # Signs in with the one-time password and replaces it; prints the session's token.
  login() {
    local token
    token="$(curl -sS --fail-with-body "$base/api/v1/auth/login" \
      -H 'content-type: application/json' \
      -d "{\"login\":\"$1\",\"password\":\"$one_time\"}" | jq -r .token)"
    curl -sS --fail-with-body -X PUT "$base/api/v1/me/password" \
      -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -d "{\"current_password\":\"$one_time\",\"new_password\":\"$password\"}"
    echo "$token"
  }
  local a b nurse conv
  a="$(login doctor-a)"
  b="$(login nurse-b)"
  nurse="$(curl -sS --fail-with-body "$base/api/v1/me" -H "authorization: Bearer $b" | jq -r .user.id)"
  conv="$(curl -sS --fail-with-body "$base/api/v1/conversations" -H "authorization: Bearer $a" \
    -H 'content-type: application/json' \
    -d "{\"kind\":\"group\",\"title\":\"Ward 3\",\"member_ids\":[\"$nurse\"]}" | jq -r .id)"
  for i in 1 2 3; do
    curl -sS --fail-with-body "$base/api/v1/conversations/$conv/messages" -H "authorization: Bearer $a" \
      -H 'content-type: application/json' \
      -d "{\"client_msg_id\":\"fixture-$i\",\"body\":\"fixture message $i\"}" >/dev/null
  done
  storescu -aet FIXTURE -aec RENKEI "${dicom%:*}" "${dicom##*:}" "$ct"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
}

fill --data-dir "$work/sqlite"
schema="$(sqlite3 "$work/sqlite/renkei.db" 'SELECT MAX(version) FROM schema_migrations')"
sqlite3 "$work/sqlite/renkei.db" "VACUUM INTO '$work/fixture.sqlite'"
cp "$work/fixture.sqlite" "$out/upgrade-schema-$schema.sqlite"
made="schema $schema: made by $(git rev-parse --short HEAD) ($(git log -1 --format=%cs)) with scripts/make-upgrade-fixture.sh"
echo "wrote $out/upgrade-schema-$schema.sqlite"

if pg_isready -q -d "$pg_url" 2>/dev/null; then
  db="renkei_fixture_$$"
  psql -q "$pg_url" -c "CREATE DATABASE $db" >/dev/null
  db_url="${pg_url%/*}/$db"
  fill --data-dir "$work/pg" --database-url "$db_url"
  pg_dump --no-owner --no-privileges --no-comments "$db_url" >"$out/upgrade-schema-$schema.pg.sql"
  psql -q "$pg_url" -c "DROP DATABASE $db" >/dev/null
  echo "wrote $out/upgrade-schema-$schema.pg.sql"
else
  echo "PostgreSQL is not reachable at $pg_url: no PostgreSQL fixture" >&2
fi
grep -qF -- "- schema $schema:" "$out/README.md" 2>/dev/null || echo "- $made" >>"$out/README.md"
