#!/usr/bin/env bash
# The Debian package, installed for real: files, the `renkei` user, modes and ownership, the
# systemd units (systemd-analyze verify), a server started as `renkei` with the packaged
# configuration that a client signs in to with the password from the 0600 file, then remove
# (data and user kept) and purge (both gone). Needs root and dpkg; skipped loudly otherwise.
#
#   scripts/package-test.sh PATH-TO-BUILT-renkei
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:?usage: scripts/package-test.sh PATH-TO-renkei}"

if [[ $(id -u) -ne 0 ]] || ! command -v dpkg >/dev/null; then
  if [[ "${CI:-}" == "true" ]]; then echo "package-test: needs root and dpkg under CI" >&2; exit 1; fi
  echo "package-test: WARNING: not root or no dpkg: the package test is SKIPPED"
  exit 0
fi
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
# Purging would destroy a real installation's data: only one this test made (marked) goes.
marker=/var/lib/renkei/.package-test
if [[ -e /var/lib/renkei && ! -e $marker ]]; then
  if [[ "${CI:-}" == "true" ]]; then echo "package-test: a real renkei installation is here" >&2; exit 1; fi
  echo "package-test: WARNING: /var/lib/renkei belongs to a real installation: the package test is SKIPPED"
  exit 0
fi
server_pids=""
stop_server() {
  if [[ -n "$server_pids" ]]; then
    kill $server_pids 2>/dev/null || true
    for _ in $(seq 50); do
      alive=0
      for pid in $server_pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.1
    done
    server_pids=""
  fi
}
cleanup() {
  stop_server
  dpkg -P renkei >/dev/null 2>&1 || true
}
# A leftover from a failed run goes first.
cleanup
trap cleanup EXIT

work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
deb=$(DEB_COMPRESSION=none scripts/package.sh --binary "$binary" --out "$work")
dpkg -i "$deb" >/dev/null
touch "$marker"

# Files, user, modes, ownership.
mode() { stat -c '%a %U:%G' "$1"; }
[[ -x /usr/bin/renkei ]] || fail "/usr/bin/renkei missing"
getent passwd renkei >/dev/null || fail "no renkei user"
[[ $(getent passwd renkei | cut -d: -f7) == /usr/sbin/nologin ]] || fail "renkei has a login shell"
[[ $(mode /var/lib/renkei) == "700 renkei:renkei" ]] || fail "/var/lib/renkei is $(mode /var/lib/renkei)"
[[ $(mode /etc/renkei/renkei.toml) == "640 root:renkei" ]] || fail "renkei.toml is $(mode /etc/renkei/renkei.toml)"
[[ $(mode /etc/renkei/gateway.env) == "640 root:renkei" ]] || fail "gateway.env is $(mode /etc/renkei/gateway.env)"
for unit in renkei renkei-gateway; do
  [[ -f /lib/systemd/system/$unit.service ]] || fail "$unit.service missing"
done
grep -qx 'CapabilityBoundingSet=' /lib/systemd/system/renkei.service || fail "unit keeps capabilities"
if command -v systemd-analyze >/dev/null; then
  # verify also checks ExecStart's binary exists; it warns (exit 0) on what it cannot see here.
  out=$(systemd-analyze verify /lib/systemd/system/renkei.service \
    /lib/systemd/system/renkei-gateway.service 2>&1) || fail "systemd-analyze verify: $out"
  if grep -E 'renkei(-gateway)?\.service:[0-9]+:' <<<"$out"; then fail "unit file warnings"; fi
else
  echo "package-test: WARNING: systemd-analyze missing: units not verified"
fi

# The packaged server as the renkei user, on a free port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd / && exec runuser -u renkei -- /usr/bin/renkei serve --config /etc/renkei/renkei.toml \
  --listen "127.0.0.1:$port" >"$work/stdout" 2>"$work/stderr") &
server_pid=$!
server_pids="$server_pid"
pwfile=/var/lib/renkei/initial-admin-password
for _ in $(seq 100); do
  # runuser's child, renkei (not there yet in the first instants: pgrep then fails, which
  # set -e and pipefail would otherwise take for the test failing, silently).
  server_pids="$server_pid $(pgrep -P "$server_pid" | tr '\n' ' ' || true)"
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; fail "server exited"; }
  sleep 0.2
done
[[ -f $pwfile ]] || fail "no $pwfile"
[[ $(mode $pwfile) == "600 renkei:renkei" ]] || fail "$pwfile is $(mode $pwfile)"
password=$(head -1 "$pwfile")
[[ ${#password} -ge 10 ]] || fail "password file holds no password"
if grep -qF "$password" "$work/stdout" "$work/stderr"; then fail "password printed"; fi
grep -qF "$pwfile" "$work/stdout" || fail "serve does not say where the password is"
status=$(curl -s -o "$work/login" -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/auth/login" \
  -H 'content-type: application/json' -d "{\"login\":\"admin\",\"password\":\"$password\"}")
[[ $status == 200 ]] && grep -q '"token"' "$work/login" || fail "sign-in with the file's password: $status"
[[ $(stat -c %U /var/lib/renkei/renkei.db) == renkei ]] || fail "no database owned by renkei"
stop_server

# remove keeps data, configuration and the user; purge removes them.
dpkg -r renkei >/dev/null
[[ ! -e /usr/bin/renkei ]] || fail "binary kept after remove"
[[ -d /var/lib/renkei && -f $pwfile ]] || fail "data removed by remove"
[[ -f /etc/renkei/renkei.toml ]] || fail "configuration removed by remove"
getent passwd renkei >/dev/null || fail "user removed by remove"
dpkg -P renkei >/dev/null
[[ ! -e /var/lib/renkei ]] || fail "data kept after purge"
[[ ! -e /etc/renkei/renkei.toml ]] || fail "configuration kept after purge"
! getent passwd renkei >/dev/null || fail "user kept after purge"
echo "package-test: ok (install, units, sign-in as renkei, remove, purge)"
