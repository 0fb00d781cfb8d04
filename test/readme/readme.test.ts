// The README runs as written: every block marked `<!-- readme-test: run -->` (see blocks.ts
// for the marks) runs against this package (dist/) in an empty folder, on this platform's
// backend (the fallback on Linux). The stated envelope lifetime is the code's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TTL_MS } from '../../lib/handoff/codec.js';
import { runnableBlocks } from './blocks.js';

const root = resolve(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = runnableBlocks(readme);
const tmp = mkdtempSync(join(tmpdir(), 'sspi-readme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('README blocks marked runnable', () => {
  it('finds the handoff and HTTP samples among them', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks.map((b) => b.setup)).toEqual(expect.arrayContaining(['peer', 'http']));
  });

  for (const block of blocks) {
    it(`README.md:${block.line} (${block.files.map((f) => f.name).join(', ')}) runs${block.expect ? ` and prints ${JSON.stringify(block.expect)}` : ''}`, () => {
      const dir = join(tmp, `line${block.line}`);
      mkdirSync(join(dir, 'node_modules'), { recursive: true });
      symlinkSync(root, join(dir, 'node_modules', 'sspi-context'), 'dir');
      for (const f of block.files) writeFileSync(join(dir, f.name), f.source);
      const args = block.setup ? ['--import', join(__dirname, 'setup', `${block.setup}.mjs`)] : [];
      // The setups import 'sspi-context' as the package's self-reference: the same dist/ (realpath).
      const r = spawnSync(process.execPath, [...args, block.files[0]!.name], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      if (block.expect !== undefined) expect(r.stdout).toContain(block.expect);
    });
  }
});

describe('README facts', () => {
  it("the envelope lifetime it states is encodeHandoff's DEFAULT_TTL_MS", () => {
    const stated = [...readme.matchAll(/expires \((\d+) s by default\)/g)].map((m) => Number(m[1]) * 1000);
    expect(stated.length).toBeGreaterThan(0);
    for (const ms of stated) expect(ms).toBe(DEFAULT_TTL_MS);
  });

  it('documents NTLM_USER_FILE and the NETBIOS_* variables the fallback reads', () => {
    const read = new Set<string>();
    for (const f of ['lib/fallback/server-config.ts', 'lib/fallback/backend.ts']) {
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(/env\.(NETBIOS_\w+|NTLM_USER_FILE)/g)) read.add(m[1]!);
    }
    expect([...read].sort()).toEqual(['NETBIOS_COMPUTER_NAME', 'NETBIOS_DOMAIN_NAME', 'NTLM_USER_FILE']);
    for (const name of read) expect(readme).toContain(`\`${name}\``);
  });
});

describe('the block reader', () => {
  it('reads marks, setup, expect and files, and rejects a mark without a js block', () => {
    const md = ['<!-- readme-test: run setup=peer expect="a \\"b\\" \\\\c" -->', '', '```js', '// file: a.mjs', "import x from 'y';", '// file: b.js', 'x();', '```', 'text', '```js', 'not marked', '```'].join('\n');
    expect(runnableBlocks(md)).toEqual([{ line: 3, setup: 'peer', expect: 'a "b" \\c', files: [{ name: 'a.mjs', source: "import x from 'y';\n" }, { name: 'b.js', source: 'x();\n' }] }]);
    expect(runnableBlocks('```js\nrequire(1)\n```\n<!-- readme-test: run -->\n```js\nrequire(2)\n```')[0]!.files).toEqual([{ name: 'block0.cjs', source: 'require(2)\n' }]);
    expect(() => runnableBlocks('<!-- readme-test: run -->\n```sh\nls\n```')).toThrow(/not followed/);
  });
});
