#!/usr/bin/env bash
# Builds the Debian package renkei_<version>_<arch>.deb (into target/debian/, or --out DIR).
#
#   scripts/package.sh                      # release build of the web client and the binary
#   scripts/package.sh --binary PATH        # package an already-built binary (the CI test)
#
# Written with `dpkg-deb --build` from a staging folder rather than cargo-deb: no extra tool
# to install (cargo-deb is minutes of `cargo install`), and the package's whole layout is
# this script plus packaging/ — readable in one place.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/renkei/target}"

binary="" out="$CARGO_TARGET_DIR/debian"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "package: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z "$binary" ]]; then
  (cd web && { [[ -d node_modules ]] || npm ci --silent; } && npm run --silent build)
  cargo build --release --locked -p renkei
  binary="$CARGO_TARGET_DIR/release/renkei"
fi

version=$(sed -nE 's/^version = "(.*)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

install -D -m 0755 "$binary" "$stage/usr/bin/renkei"
install -D -m 0640 packaging/renkei.toml "$stage/etc/renkei/renkei.toml"
install -D -m 0640 packaging/debian/gateway.env "$stage/etc/renkei/gateway.env"
install -D -m 0644 packaging/debian/renkei.service "$stage/lib/systemd/system/renkei.service"
install -D -m 0644 packaging/debian/renkei-gateway.service \
  "$stage/lib/systemd/system/renkei-gateway.service"
install -D -m 0644 docs/OPERATIONS.md "$stage/usr/share/doc/renkei/OPERATIONS.md"
install -D -m 0644 README.md "$stage/usr/share/doc/renkei/README.md"
install -d -m 0755 "$stage/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
  "$stage/DEBIAN/"
printf '/etc/renkei/renkei.toml\n/etc/renkei/gateway.env\n' >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: renkei
Version: $version
Architecture: $arch
Maintainer: renkei developers <renkei@localhost>
Section: net
Priority: optional
Depends: adduser, libc6
Installed-Size: $(du -sk "$stage" | cut -f1)
Description: secure communication for hospitals (chat, medical images, calls)
 One self-hosted server: chat, DICOM images de-identified at the gateway and
 encrypted at rest, a viewer, calls and the administration a hospital needs.
CONTROL

mkdir -p "$out"
deb="$out/renkei_${version}_${arch}.deb"
# The CI test packages a large debug binary: DEB_COMPRESSION=none keeps it quick.
dpkg-deb -Z"${DEB_COMPRESSION:-xz}" --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
