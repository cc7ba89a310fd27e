#!/usr/bin/env bash
# Media figures for docs/BENCHMARKS.md: upload and download throughput of a 100 MB file through
# the API (encrypted) against the raw disk in the same run, server memory while streaming a
# 500 MB file, and the time to take a 12-megapixel photo (clean, re-encode, thumbnail).
# Needs curl and ffmpeg. Usage: bench/media.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
cargo build --release --locked -p renkei
bin="$CARGO_TARGET_DIR/release/renkei"
work=$(mktemp -d -p "$PWD" bench-media.XXXX)   # on the same disk as a data folder would be
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=18097
api="http://127.0.0.1:$port/api/v1"

"$bin" admin --data-dir "$work/data" create-org --name "Bench Hospital" --slug bench >/dev/null
echo "bench password 2026" | "$bin" admin --data-dir "$work/data" create-user --org bench --login bench \
  --name Bench --profession doctor --role org_admin --password-stdin >/dev/null
RENKEI_LOG=warn "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:$port >"$work/out" 2>/dev/null &
pid=$!
until grep -q "renkei listening" "$work/out" 2>/dev/null; do sleep 0.05; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token=$(curl -s -X POST "$api/auth/login" -H 'content-type: application/json' \
  -d '{"login":"bench","password":"bench password 2026"}' | json "['token']")
curl -s -X PUT "$api/me/password" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"current_password":"bench password 2026","new_password":"bench password 2027"}' >/dev/null
org=$(curl -s "$api/me" -H "authorization: Bearer $token" | json "['user']['org_id']")
curl -s -X PATCH "$api/orgs/$org" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"version":1,"policy":{"retention_days":3,"patient_id_digits":4,"idle_lock_minutes":10,"passcode_required":false,"second_factor_required":false,"max_upload_mb":1024}}' >/dev/null

mbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.0f", b / 1048576 / s}'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b - a) / 1e9}'; }

# Raw disk: write 100 MB with fsync, read it back.
head -c $((100 * 1048576)) /dev/urandom >"$work/file100"
t0=$(date +%s%N); dd if="$work/file100" of="$work/raw" bs=1M conv=fsync status=none; t1=$(date +%s%N)
raw_write=$(mbps $((100 * 1048576)) "$(secs "$t0" "$t1")")
t0=$(date +%s%N); dd if="$work/raw" of=/dev/null bs=1M status=none; t1=$(date +%s%N)
raw_read=$(mbps $((100 * 1048576)) "$(secs "$t0" "$t1")")

upload() { curl -s -X POST "$api/media?name=$2" -H "authorization: Bearer $token" \
  -H 'content-type: application/octet-stream' --data-binary @"$1"; }
t0=$(date +%s%N); id=$(upload "$work/file100" file100.bin | json "['id']"); t1=$(date +%s%N)
up=$(mbps $((100 * 1048576)) "$(secs "$t0" "$t1")")
t0=$(date +%s%N); curl -s "$api/media/$id/content" -H "authorization: Bearer $token" -o "$work/back"; t1=$(date +%s%N)
down=$(mbps $((100 * 1048576)) "$(secs "$t0" "$t1")")
cmp -s "$work/file100" "$work/back" || { echo "bench: the download differs from the upload" >&2; exit 1; }

# 500 MB through, watching the server's peak memory.
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
head -c $((500 * 1048576)) /dev/zero >"$work/file500"
id500=$(upload "$work/file500" file500.bin | json "['id']")
curl -s "$api/media/$id500/content" -H "authorization: Bearer $token" -o /dev/null
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)

# A 12-megapixel photo: sniff, decode, orient, re-encode without metadata, thumbnail, encrypt.
ffmpeg -loglevel error -f lavfi -i testsrc=size=4000x3000 -frames:v 1 -q:v 3 "$work/photo.jpg"
photo_ms=()
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N); upload "$work/photo.jpg" photo.jpg >/dev/null; t1=$(date +%s%N)
  photo_ms+=($(( (t1 - t0) / 1000000 )))
done
photo_median=$(printf '%s\n' "${photo_ms[@]}" | sort -n | sed -n 3p)

echo "raw disk: write ${raw_write} MB/s (fsync), read ${raw_read} MB/s"
echo "API, encrypted: upload ${up} MB/s, download ${down} MB/s (100 MB)"
echo "server RSS: ${rss_before} KiB before the 500 MB upload+download, peak ${hwm} KiB"
echo "12 MP photo upload (clean + thumbnail + encrypt), median of 5: ${photo_median} ms"
