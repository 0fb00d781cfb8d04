#!/bin/sh
# Build the test security provider DLL (test fixture, never shipped) with mingw-w64.
set -eu
. "$(dirname -- "$0")/env.sh"
src="$ROOT/test/wine/provider"
mkdir -p "$(dirname "$PROVIDER_DLL")"
if [ -f "$PROVIDER_DLL" ] && [ -z "$(find "$src" -newer "$PROVIDER_DLL" -type f)" ]; then exit 0; fi
echo "build-provider: $PROVIDER_DLL"
x86_64-w64-mingw32-g++-posix -shared -o "$PROVIDER_DLL" "$src"/*.cc "$src/sspitest.def" \
  -std=c++17 -O2 -Wall -Wextra -Werror \
  -DUNICODE -D_UNICODE -DSECURITY_WIN32 -D_WIN32_WINNT=0x0A00 \
  -ladvapi32 -static-libgcc -static-libstdc++ -static -Wl,--no-insert-timestamp
