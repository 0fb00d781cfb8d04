#!/bin/sh
# npm run test:wine: setup (idempotent), build (TypeScript + the mingw addon), then every
# test/wine/*.test.mjs in Windows node.exe's test runner under Wine. Ends with the
# runner's summary lines; the exit code is the runner's.
set -eu
. "$(dirname -- "$0")/env.sh"
cd "$ROOT"
"$ROOT/scripts/wine/setup.sh"
[ -d node_modules/node-addon-api ] || npm ci
npm run --silent build:ts
# prebuild:mingw = build:wine + prebuilds/win32-x64/sspi-context.node, which the packed tarball
# ships (test/wine/tarball.test.mjs installs it into an empty project).
npm run --silent prebuild:mingw >/dev/null
SSPI_TARBALL_PROJECT=$("$ROOT/scripts/wine/tarball-project.sh")
export SSPI_TARBALL_PROJECT
files=$(cd "$ROOT" && ls test/wine/*.test.mjs)
# shellcheck disable=SC2086
exec "$ROOT/scripts/wine/run.sh" --test --test-concurrency=1 --test-reporter=tap $files
