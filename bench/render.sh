#!/usr/bin/env bash
# Rendered-frame latency through HTTP for docs/BENCHMARKS.md: one generated 512×512×16-bit CT
# instance stored through STOW-RS, then `wrk` on its rendered PNG and its raw frame for 10 s each
# (one connection: the latency a viewer sees). Needs wrk, pydicom. Usage: bench/render.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
cargo build --release --locked -p renkei
bin="$CARGO_TARGET_DIR/release/renkei"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$work/ct.dcm" <<'PY'
import os, sys, pydicom
ds = pydicom.dcmread(os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files", "CT_small.dcm"))
ds.Rows = ds.Columns = 512
ds.PixelData = bytes((i * 7919) % 4096 % 256 for i in range(512 * 512 * 2))
ds.save_as(sys.argv[1], enforce_file_format=True)
PY
"$bin" admin --data-dir "$work/data" create-org --name "Bench Hospital" --slug bench >/dev/null
echo "bench password 2026" | "$bin" admin --data-dir "$work/data" create-user --org bench --login bench --name Bench --profession doctor --password-stdin >/dev/null
RENKEI_LOG=warn "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:18096 >"$work/out" 2>/dev/null &
until grep -q "renkei listening" "$work/out" 2>/dev/null; do sleep 0.05; done
api=http://127.0.0.1:18096
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token=$(curl -s -X POST $api/api/v1/auth/login -H 'content-type: application/json' -d '{"login":"bench","password":"bench password 2026"}' | json "['token']")
curl -s -X PUT $api/api/v1/me/password -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"current_password":"bench password 2026","new_password":"bench password 2027"}' >/dev/null
curl -s -X POST $api/dicomweb/studies -H "authorization: Bearer $token" -H 'content-type: application/dicom' --data-binary @"$work/ct.dcm" >/dev/null
study=$(curl -s $api/api/v1/studies -H "authorization: Bearer $token" | json "[0]['id']")
series=$(curl -s $api/api/v1/studies/$study -H "authorization: Bearer $token" | json "['series'][0]['series_uid']")
sop=$(curl -s $api/api/v1/studies/$study/series/$series/instances -H "authorization: Bearer $token" | json "[0]['sop_uid']")
for kind in "rendered?window=40,400" raw; do
  echo "== $kind"
  wrk -t1 -c1 -d10s --latency -H "authorization: Bearer $token" "$api/api/v1/studies/$study/instances/$sop/frames/1/$kind" | grep -E "50%|99%|Requests/sec"
done
