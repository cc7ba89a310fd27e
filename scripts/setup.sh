#!/usr/bin/env bash
# Installs what building, running and testing renkei needs, skipping what is already there.
set -euo pipefail

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v c++ >/dev/null || need_apt+=(g++)   # CharLS (the JPEG-LS decoder) is C++ ...
command -v cmake >/dev/null || need_apt+=(cmake)   # ... built from source with CMake
command -v pg_isready >/dev/null || need_apt+=(postgresql-client)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)   # real MP4/MOV files for the video tests
command -v storescu >/dev/null || need_apt+=(dcmtk)   # real DICOM peers: echoscu, storescu, storescp
command -v curl >/dev/null || need_apt+=(curl)   # the TLS test offers TLS 1.1 with it (renkei must refuse)
command -v node >/dev/null || need_apt+=(nodejs npm)   # the web client (web/): Vite, Vitest
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)      # the web client's end-to-end tests
command -v turnserver >/dev/null || need_apt+=(coturn)   # TURN for calls: the relay fallback, and its tests
[[ -x /usr/sbin/haproxy ]] || need_apt+=(haproxy)   # the load balancer of several nodes (docs/DEPLOYMENT.md) and its test
command -v nats-server >/dev/null || need_apt+=(nats-server)   # the bus between nodes, and its tests
# Text in pixels (burned-in names): Tesseract with Japanese and English models, linked by renkei-dicom.
[[ -e /usr/include/tesseract/capi.h ]] || need_apt+=(libtesseract-dev)
[[ -e /usr/share/tesseract-ocr/5/tessdata/jpn.traineddata ]] || need_apt+=(tesseract-ocr-jpn)
[[ -e /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ]] || need_apt+=(tesseract-ocr-eng)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)   # Japanese in screenshots
if ((${#need_apt[@]})); then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing; install it with rustup (https://rustup.rs), then run this again" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest"
  cargo install --locked cargo-nextest
fi
# Fuzzing (scripts/fuzz.sh, the targets in fuzz/): libFuzzer, built with the C++ compiler above.
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi
# Real DICOM test files (CT, MR, JPEG, RLE, ECG, ultrasound) come with pydicom.
if ! python3 -c 'import pydicom' 2>/dev/null; then
  echo "setup: installing pydicom (test data)"
  python3 -m pip install --quiet --disable-pip-version-check 'pydicom==3.0.*'
fi
# A standard DICOMweb client (Imaging Data Commons' dicomweb-client) for the interop test.
if ! python3 -c 'import dicomweb_client, PIL' 2>/dev/null; then
  echo "setup: installing dicomweb-client (DICOMweb interoperability test)"
  python3 -m pip install --quiet --disable-pip-version-check 'dicomweb-client==0.60.*'
fi
# The independent chat load generator (bench/chat_client.py) is asyncio over websockets.
if ! python3 -c 'import websockets.asyncio.client' 2>/dev/null; then
  echo "setup: installing websockets (chat benchmark client)"
  python3 -m pip install --quiet --disable-pip-version-check 'websockets==15.*'
fi
# The API conformance run (scripts/api-conformance.sh): property-based tests from the OpenAPI document.
if ! command -v st >/dev/null || ! python3 -c 'import schemathesis' 2>/dev/null; then
  echo "setup: installing schemathesis (API conformance)"
  python3 -m pip install --quiet --disable-pip-version-check 'schemathesis==4.*'
fi
# A local S3-compatible server for the object-store tests.
if ! command -v moto_server >/dev/null; then
  echo "setup: installing moto (S3-compatible test server)"
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]==5.*'
fi
# The web client needs Node >= 20.19 (Vite 8); its packages install exactly as locked.
web_dir="$(cd "$(dirname "$0")/.." && pwd)/web"
if command -v node >/dev/null; then
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || echo "setup: WARNING: Node $(node --version) is too old for the web client (needs 20.19 or newer)" >&2
fi
if command -v npm >/dev/null && [[ ! -d "$web_dir/node_modules" ]]; then
  echo "setup: installing the web client's packages (npm ci)"
  (cd "$web_dir" && npm ci --no-audit --no-fund)
fi
oidc_dir="$(cd "$(dirname "$0")/.." && pwd)/crates/renkei/tests/oidc"
if command -v npm >/dev/null && [[ ! -d "$oidc_dir/node_modules" ]]; then
  echo "setup: installing the single sign-on tests' identity provider (npm ci)"
  (cd "$oidc_dir" && npm ci --no-audit --no-fund)
fi
echo "setup: ready"
