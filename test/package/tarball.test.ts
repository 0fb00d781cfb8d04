// The tarball is the product: pack it as a fresh clone would (no dist/; prepack builds it),
// install it into an empty project with install scripts enabled, and run consumers there:
// CommonJS, ESM, and both bundled by esbuild, each authenticating (fallback NTLM) and
// handing the context to a child; then a strict TypeScript consumer of the typings.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');
const consumerDir = join(__dirname, 'consumer');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

// The npm test run's own npm_* variables (lifecycle event, package paths) must not leak into
// the nested npm commands, which act on other folders.
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
delete cleanEnv.NODE_OPTIONS;
delete cleanEnv.SSPI_CONTEXT_BACKEND;

let tmp = '';
let project = '';
let packed: { filename: string; files: { path: string }[]; size: number; unpackedSize: number; entryCount: number };
let installLog = '';

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: cleanEnv, encoding: 'utf8', timeout: 120_000 });
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs a consumer (parent + forked child) and returns the JSON line it prints. */
function consume(file: string, cwd: string): { moved: boolean; clientName: string; plaintext: string; childPid: number } {
  const out = must(run(process.execPath, [file], cwd), `node ${file}`);
  return JSON.parse(out.trim().split('\n').pop()!);
}

function expectHandedOff(r: ReturnType<typeof consume>): void {
  expect(r).toMatchObject({ moved: true, clientName: 'CONTOSO\\alice', plaintext: 'hello from the parent' });
  expect(r.childPid).not.toBe(process.pid);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sspi-package-'));
  // A fresh clone: the tracked and new (not ignored) files, so no dist/ and no build output.
  const src = join(tmp, 'src');
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    try {
      cpSync(join(root, f), join(src, f));
    } catch {
      // Deleted in the work tree but still in the index.
    }
  }
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
  const json = must(run('npm', ['pack', '--json', '--pack-destination', tmp], src), 'npm pack');
  packed = JSON.parse(json.slice(json.indexOf('[')))[0];
  project = join(tmp, 'project');
  mkdirSync(project);
    // npm 11 skips dependencies' install scripts unless package.json allows them: allow ours.
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, allowScripts: { 'sspi-context': true } }));
  installLog = must(
    run('npm', ['install', join(tmp, packed.filename), '--foreground-scripts', '--no-audit', '--no-fund', '--prefer-offline'], project),
    'npm install <tarball>',
  );
  cpSync(consumerDir, project, { recursive: true });
}, 240_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships dist/ (built by prepack), the install script and the addon sources; nothing from test/ or bench/', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ['dist/index.js', 'dist/index.mjs', 'dist/index.module.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'dist/cli.js', 'scripts/install.mjs', 'binding.gyp', 'package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
      expect(paths).toContain(p);
    }
    expect(paths.some((p) => p.startsWith('native/') && p.endsWith('.cc'))).toBe(true);
    expect(paths.filter((p) => /^(test|bench|examples|\.ci|\.github|scripts\/wine)\//.test(p))).toEqual([]);
  });

  it('installs into an empty project with install scripts enabled, and the install script runs', () => {
    expect(installLog).toContain(`sspi-context: ${process.platform} uses the TypeScript NTLM package; nothing to build`);
    const installed = readdirSync(join(project, 'node_modules', 'sspi-context', 'dist'));
    expect(installed).toContain('index.module.mjs');
  });
});

describe('consumers in the installed project hand a context to a child', () => {
  it('CommonJS: require()', () => {
    expectHandedOff(consume('consumer.cjs', project));
  });

  it('ESM: import, named and default', () => {
    expectHandedOff(consume('consumer.mjs', project));
  });

  for (const format of ['esm', 'cjs'] as const) {
    it(`esbuild --bundle --format=${format} --platform=node, run away from node_modules`, () => {
      const out = join(tmp, `bundle-${format}`);
      const file = join(out, format === 'esm' ? 'app.mjs' : 'app.cjs');
      must(run(bin('esbuild'), [format === 'esm' ? 'consumer.mjs' : 'consumer.cjs', '--bundle', `--format=${format}`, '--platform=node', `--outfile=${file}`, '--log-level=warning'], project), 'esbuild');
      // No node_modules beside or above the bundle: it carries the library itself.
      expectHandedOff(consume(file, out));
    });
  }
});

describe('strict TypeScript consumer (module nodenext, skipLibCheck false)', () => {
  const tsc = (files: string[]): SpawnSyncReturns<string> =>
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--lib', 'es2022,esnext.disposable', '--skipLibCheck', 'false', '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', ...files], project);

  it("type-checks the README's API, and its @ts-expect-error on a misspelt code is used", () => {
    const r = tsc(['consumer.mts']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("rejects `const c: SspiError['code'] = 'SEC_E_LOGON_DENYED'`", () => {
    const r = tsc(['misspelt.mts']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/misspelt\.mts\(3,\d+\): error TS(2322|2820): Type '"SEC_E_LOGON_DENYED"' is not assignable to type 'StatusCode'/);
  });
});
