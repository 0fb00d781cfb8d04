#!/usr/bin/env node
// package.json "install" script.
// - Not Windows: the addon is Windows-only; compile nothing, fail on nothing.
// - Windows: use a prebuild that fits (node-gyp-build), else compile with node-gyp.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.platform !== 'win32') process.exit(0);
if (process.env.SSPI_CONTEXT_SKIP_BUILD) process.exit(0);

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

try {
  const load = require('node-gyp-build');
  const found = load.path(root);
  console.log(`sspi-context: using ${found}`);
  process.exit(0);
} catch {
  // No prebuild or build output that fits: compile.
}

// npm puts its bundled node-gyp on PATH for lifecycle scripts; npm_config_node_gyp names it directly.
const gyp = process.env.npm_config_node_gyp;
const cmd = gyp ? process.execPath : 'node-gyp';
const args = gyp ? [gyp, 'rebuild'] : ['rebuild'];
const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: !gyp });
process.exit(r.status ?? 1);
