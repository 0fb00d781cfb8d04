#!/bin/sh
# Run the Windows node.exe under Wine: scripts/wine/run.sh [node args...]
# node.exe's stdout/stderr go to files, never to a pipe: console.log fails with EBADF on a
# Linux pipe, and Wine's background processes would keep a pipe open. The files are
# printed afterwards and the exit code is node's.
set -u
. "$(dirname -- "$0")/env.sh"
# Test-only: Wine's NTLM server side verifies one fixed account through the ntlm_auth shim;
# the Negotiate server side (gss-ntlmssp, when installed) reads NTLM_USER_FILE.
export PATH="$ROOT/scripts/wine/shim:$PATH"
export SSPI_TEST_USER=${SSPI_TEST_USER:-testuser} SSPI_TEST_DOMAIN=${SSPI_TEST_DOMAIN:-TESTDOMAIN}
export SSPI_TEST_PASSWORD=${SSPI_TEST_PASSWORD:-Passw0rd!}
users=$(mktemp)
printf '%s:%s:%s\n' "$SSPI_TEST_DOMAIN" "$SSPI_TEST_USER" "$SSPI_TEST_PASSWORD" > "$users"
export NTLM_USER_FILE=$users
# Wine passes the environment to node.exe; WINEPATH-free. Tests read SSPI_* from it.
export SSPI_WINE=1
# The addon of npm run build:wine, through the loader's explicit-path switch (Z: is /).
export SSPI_CONTEXT_ADDON=${SSPI_CONTEXT_ADDON:-Z:$ADDON}
out=$(mktemp) err=$(mktemp)
cd "$ROOT" || exit 1
wine "$NODE_EXE" "$@" >"$out" 2>"$err" </dev/null
rc=$?
# stderr first: the runner's summary (stdout) stays the last thing printed.
cat "$err" >&2; cat "$out"
rm -f "$out" "$err" "$users"
exit $rc
