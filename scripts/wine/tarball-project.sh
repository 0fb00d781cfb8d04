#!/bin/sh
# Packs the package (with prebuilds/win32-x64 from npm run prebuild:mingw) and installs the
# tarball into an empty project for Windows, on the Linux side: npm cannot run under Wine.
# Prints the project's path (read by test/wine/tarball.test.mjs as SSPI_TARBALL_PROJECT).
set -eu
. "$(dirname -- "$0")/env.sh"
cd "$ROOT"
dir="$CACHE/tarball"
rm -rf "$dir"
mkdir -p "$dir/project"
tgz=$(npm pack --silent --pack-destination "$dir" | tail -n 1)
cd "$dir/project"
printf '{ "name": "tarball-consumer", "version": "1.0.0", "private": true }\n' > package.json
# --os/--cpu: the dependency tree a Windows x64 install gets; the install script would only
# confirm the prebuild fits, which the test checks at run time.
npm install --silent --no-audit --no-fund --prefer-offline --ignore-scripts --os=win32 --cpu=x64 "$dir/$tgz" >/dev/null
echo "$dir/project"
