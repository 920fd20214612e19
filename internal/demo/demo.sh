#!/usr/bin/env bash
# The demo behind `make demo`: a throw-away `movitera server --dev` on a free
# loopback port, `movitera login` against it, then `status` and
# `tokens list`. Everything lives in one temporary directory, removed at the
# end, and the server stops with the script.
#
# Settings (environment):
#   BIN            the movitera binary (default bin/movitera)
#   DEMO_STORAGE   keyring | file: where login keeps the token. Default: the
#                  keyring where a desktop session offers one, else a 0600
#                  file in the temporary directory (--insecure-storage).
#   DEMO_BROWSER   0: never open a browser (login --no-browser); by default
#                  login opens one where there is a display.
set -euo pipefail

BIN=${BIN:-bin/movitera}
[[ -x $BIN ]] || { echo "demo: $BIN not found: run 'make build' first" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/../.."

say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
[[ -t 2 && -z ${NO_COLOR:-} ]] || say() { printf '\n==> %s\n' "$*" >&2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/movitera-demo.XXXXXX")
server_pid=
logged_in_keyring=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $logged_in_keyring ]]; then
    # Leave nothing behind in the person's keyring: revoke and forget.
    "$BIN" logout --yes >/dev/null 2>&1 || true
  fi
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    echo "demo: server stopped" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A tiny helper that reads dev-credentials.json and computes TOTP codes.
go build -o "$tmp/devcreds" ./internal/demo/devcreds

say "starting a throw-away vault: movitera server --dev --addr 127.0.0.1:0"
"$BIN" server --dev --addr 127.0.0.1:0 --data-dir "$tmp/data" 2>"$tmp/server.log" &
server_pid=$!
creds=$tmp/data/dev-credentials.json
for _ in $(seq 1 300); do
  [[ -s $creds ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo: the server exited before it was ready; its log:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
[[ -s $creds ]] || { echo "demo: no $creds after 30 s; server log:" >&2; cat "$tmp/server.log" >&2; exit 1; }

url=$("$tmp/devcreds" "$creds" server_url)
export MOVITERA_SERVER=$url
export MOVITERA_CONFIG_DIR=$tmp/config
unset MOVITERA_TOKEN MOVITERA_TEAM MOVITERA_OTP

cat >&2 <<EOF
The vault is running at $url (data in $tmp/data).
Sign in on its page with:
  email      $("$tmp/devcreds" "$creds" email)
  password   $("$tmp/devcreds" "$creds" password)
  TOTP code  $("$tmp/devcreds" "$creds" totp)
A code is accepted once and changes every 30 seconds; for a fresh one, run
  $tmp/devcreds $creds totp
(or add the secret $("$tmp/devcreds" "$creds" totp_secret) to an authenticator app).
EOF

login_flags=()
storage=${DEMO_STORAGE:-}
if [[ -z $storage ]]; then
  if [[ $(uname -s) == Linux && -z ${DBUS_SESSION_BUS_ADDRESS:-} ]]; then
    storage=file
  else
    storage=keyring
  fi
fi
if [[ $storage == file ]]; then
  echo "No desktop keyring here: the token goes to a 0600 file in $tmp/config (--insecure-storage)." >&2
  login_flags+=(--insecure-storage)
fi
# login itself opens no browser over SSH or without a display (unless BROWSER
# is set); it always prints the code and the URL first.
if [[ ${DEMO_BROWSER:-} == 0 ]]; then
  login_flags+=(--no-browser)
fi
echo "If no browser opens, open the URL printed below in one that can reach $url." >&2

say "movitera login ${login_flags[*]}"
"$BIN" login "${login_flags[@]}"
[[ $storage == keyring ]] && logged_in_keyring=1

say "movitera status"
"$BIN" status

say "movitera tokens list"
"$BIN" tokens list

cat >&2 <<EOF

Done. To keep a vault of your own running: bin/movitera server --dev (see docs/server.md).
EOF
