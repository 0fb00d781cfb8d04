// Writes dist/index.mjs: an ESM face over the CommonJS build, so both module
// systems share one copy of every class (SspiError instanceof works across them).
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

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
