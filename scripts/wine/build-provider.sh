#!/bin/sh
# Build the test security provider DLL and its standalone probe (test fixtures, never shipped)
# with mingw-w64.
set -eu
. "$(dirname -- "$0")/env.sh"
src="$ROOT/test/wine/provider"
out=$(dirname "$PROVIDER_DLL")
mkdir -p "$out"
if [ -f "$PROVIDER_DLL" ] && [ -f "$out/probe.exe" ] && [ -z "$(find "$src" -newer "$PROVIDER_DLL" -type f)" ]; then exit 0; fi
echo "build-provider: $PROVIDER_DLL"
CXX=x86_64-w64-mingw32-g++-posix
FLAGS="-std=c++17 -O2 -Wall -Wextra -Wconversion -Werror -DUNICODE -D_UNICODE -DSECURITY_WIN32 -D_WIN32_WINNT=0x0A00"
LINK="-static-libgcc -static-libstdc++ -static -Wl,--no-insert-timestamp"
# shellcheck disable=SC2086
$CXX -shared -o "$PROVIDER_DLL" "$src"/*.cc "$src/sspitest.def" $FLAGS -ladvapi32 $LINK
# shellcheck disable=SC2086
$CXX -o "$out/probe.exe" "$src/probe/probe.cc" $FLAGS -lsecur32 -ladvapi32 $LINK
