#!/usr/bin/env node
// package.json "install" script.
// - Not Windows: the addon is Windows-only; compile nothing, fail on nothing.
// - Windows: use a prebuild (or an earlier build) that fits, as node-gyp-build picks it at
//   run time; only when none fits, compile with the package's own node-gyp (>= 12.1.0, the
//   first release that finds Visual Studio 2026; npm 10's bundled one does not).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.platform !== 'win32') {
  console.log(`sspi-context: ${process.platform} uses the TypeScript NTLM package; nothing to build`);
  process.exit(0);
}
if (process.env.SSPI_CONTEXT_SKIP_BUILD) process.exit(0);

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

try {
  const found = require('node-gyp-build').path(root);
  console.log(`sspi-context: using ${found}`);
  process.exit(0);
} catch {
  // No prebuild or build output that fits: compile.
}

let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  gyp = process.env.npm_config_node_gyp; // npm's bundled one, when ours is missing
}
if (!gyp) {
  console.error('sspi-context: no prebuild fits and node-gyp is not installed; cannot build the addon');
  process.exit(1);
}
console.log(`sspi-context: no prebuild for ${process.platform}-${process.arch}; compiling with ${gyp}`);
const r = spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
