// Writes the ESM entries of dist/ after tsc has written the CommonJS build:
// - dist/index.mjs: an ESM face over the CommonJS build, so Node's `import` and `require`
//   share one copy of every class and of the process-wide backend.
// - dist/index.module.mjs: the whole library as one ESM file for bundlers (the "module"
//   export condition, which esbuild and webpack honour). A bundler turning the CommonJS
//   build into ESM output leaves `require("node:util")` behind, which dies with
//   "Dynamic require of node:util is not supported"; this file imports its builtins.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const cjs = require('../dist/index.js');
const names = Object.keys(cjs).filter((n) => n !== 'default' && n !== '__esModule').sort();
const body = [
  "import cjs from './index.js';",
  ...names.map((n) => `export const ${n} = cjs.${n};`),
  'export default cjs;',
  '',
].join('\n');
writeFileSync(new URL('../dist/index.mjs', import.meta.url), body);
writeFileSync(new URL('../dist/index.d.mts', import.meta.url), "export * from './index.js';\nimport cjs = require('./index.js');\nexport default cjs;\n");

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // esbuild is a devDependency: a production install never rebuilds dist/.
  console.warn('esm-entry: esbuild is not installed; dist/index.module.mjs not written');
  process.exit(0);
}
await esbuild.build({
  // The same default export as dist/index.mjs: the namespace.
  stdin: {
    contents: "import * as all from './index.js';\nexport * from './index.js';\nexport default all;\n",
    resolveDir: fileURLToPath(new URL('../lib/', import.meta.url)),
    loader: 'ts',
  },
  outfile: fileURLToPath(new URL('../dist/index.module.mjs', import.meta.url)),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Only the library itself: its dependencies stay packages the consumer resolves.
  packages: 'external',
  logLevel: 'warning',
});
