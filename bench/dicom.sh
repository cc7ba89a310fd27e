#!/usr/bin/env bash
# DICOM ingest for docs/BENCHMARKS.md: 300 generated CT instances (512×512×16 bit) sent by
# dcmtk's storescu (TCP_NODELAY=1) over one association, then 4 in parallel, to renkei (with
# de-identification, encryption and a durable index) and, in the same run, to dcmtk's storescp
# writing the files to disk. Needs dcmtk and pydicom (scripts/setup.sh). Usage: bench/dicom.sh
# SERVER_BIN=path measures another renkei binary (e.g. an older build) without building.
# MODALITY=US sends 300 ultrasound frames instead (640×480, 8-bit, a scanned modality: each
# one's pixels go through burned-in text detection at ingest; clean, so each costs both passes).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"
export TCP_NODELAY=1
if [[ -z ${SERVER_BIN:-} ]]; then
  cargo build --release --locked -p renkei
fi
bin="${SERVER_BIN:-$CARGO_TARGET_DIR/release/renkei}"
work=$(mktemp -d -p "$PWD" bench-dicom.XXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work/in" "${MODALITY:-CT}" <<'PY'
import os, sys, pydicom
from pydicom.uid import generate_uid
out, modality = sys.argv[1], sys.argv[2]; os.makedirs(out)
base = pydicom.dcmread(os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files", "CT_small.dcm"))
study, series = generate_uid(), generate_uid()
if modality == "US":
    # A fan of grey speckle-free bands: an image like an ultrasound's, with no text in it.
    w, h = 640, 480
    us = bytes(((x // 8 + y // 6) * 7 if 80 < x < 560 and 60 < y < 440 else 0) % 200 for y in range(h) for x in range(w))
for i in range(300):
    ds = base.copy()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.SOPInstanceUID = generate_uid(); ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = i + 1
    if modality == "US":
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
        ds.Modality = "US"
        ds.Rows, ds.Columns = h, w
        ds.BitsAllocated = ds.BitsStored = 8; ds.HighBit = 7; ds.PixelRepresentation = 0
        for k in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
            if k in ds: delattr(ds, k)
        ds.PixelData = us
    else:
        ds.Rows = ds.Columns = 512
        ds.PixelData = os.urandom(512 * 512 * 2)
    ds.save_as(os.path.join(out, f"{modality.lower()}{i:03}.dcm"), enforce_file_format=True)
PY
mkdir -p "$work/groups"
for g in 0 1 2 3; do mkdir -p "$work/groups/$g"; done
i=0; for f in "$work"/in/*.dcm; do ln -s "$f" "$work/groups/$((i % 4))/"; i=$((i + 1)); done
total_mb=$(du -smL "$work/in" | cut -f1)

send_one() { storescu -aet STORESCU -aec "$1" 127.0.0.1 "$2" +sd "$work/in" >/dev/null; }
send_four() {
  for g in 0 1 2 3; do storescu -aet STORESCU -aec "$1" 127.0.0.1 "$2" +sd "$work/groups/$g" >/dev/null & done
  wait
}
timed() { local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}'; }

# dcmtk's storescp writing files.
mkdir -p "$work/scp1" "$work/scp4"
storescp -aet STORESCP +xa -od "$work/scp1" 11190 & scp=$!; sleep 0.5
dcmtk_one=$(timed send_one STORESCP 11190); kill $scp; wait $scp 2>/dev/null || true
storescp -aet STORESCP +xa -od "$work/scp4" 11191 & scp=$!; sleep 0.5
dcmtk_four=$(timed send_four STORESCP 11191); kill $scp; wait $scp 2>/dev/null || true

# renkei: de-identify, encrypt, index, acknowledge.
run_renkei() {
  local data="$work/$1" port=$2
  "$bin" admin --data-dir "$data" create-org --name "Bench Hospital" --slug bench >/dev/null
  "$bin" admin --data-dir "$data" add-dicom-peer --org bench --ae-title STORESCU --allow 127.0.0.0/8 >/dev/null
  RENKEI_LOG=warn "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 --dicom-listen 127.0.0.1:$port >"$data.out" 2>/dev/null &
  until grep -q "renkei listening" "$data.out" 2>/dev/null; do sleep 0.05; done
}
run_renkei r1 11192; r1=$!
renkei_one=$(timed send_one RENKEI 11192); kill $r1
run_renkei r4 11193; r4=$!
renkei_four=$(timed send_four RENKEI 11193); kill $r4

# Through an edge gateway: storescu → gateway (de-identify, seal, queue) → STOW-RS → server.
run_renkei rg 11194; rg=$!
base=$(grep -o 'http://[0-9.:]*' "$work/rg.out" | head -1)
token=$("$bin" admin --data-dir "$work/rg" create-gateway --org bench --name bench | sed -n 's/^token: //p')
RENKEI_GATEWAY_TOKEN=$token RENKEI_LOG=warn "$bin" gateway --server "$base" --data-dir "$work/gw" \
  --dicom-listen 127.0.0.1:11195 >"$work/gw.out" 2>/dev/null & gw=$!
until grep -q "DICOM listening" "$work/gw.out" 2>/dev/null; do sleep 0.05; done
wait_drained() {
  until "$bin" gateway status --json --data-dir "$work/gw" | grep -q '"sent_total": 300'; do sleep 0.05; done
}
gateway_intake=$(timed send_one RENKEI 11195)
gateway_drain=$(timed wait_drained)
gateway_end=$(awk -v a="$gateway_intake" -v b="$gateway_drain" 'BEGIN {printf "%.2f", a + b}')
kill $gw $rg

rate() { awk -v n=300 -v s="$1" 'BEGIN {printf "%.0f", n / s}'; }
echo "300 instances, ${total_mb} MB"
echo "storescp (files):        1 association ${dcmtk_one} s ($(rate "$dcmtk_one")/s), 4 associations ${dcmtk_four} s ($(rate "$dcmtk_four")/s)"
echo "renkei (de-id+enc+index): 1 association ${renkei_one} s ($(rate "$renkei_one")/s), 4 associations ${renkei_four} s ($(rate "$renkei_four")/s)"
echo "gateway, 1 association:  taken and queued ${gateway_intake} s ($(rate "$gateway_intake")/s), all on the server ${gateway_end} s ($(rate "$gateway_end")/s)"
