// The addon loader: setNativeBinding, node-gyp-build's prebuild lookup from the package's own
// root, and no probing of the current directory's node_modules (DLL planting). Each case runs
// in a child node so the loader's once-per-process state starts clean.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.SSPI_CONTEXT_ADDON;
delete env.SSPI_CONTEXT_PREBUILD;
let tmp = '';

/** Runs `body` (CommonJS, `loader` = the given dist's native/loader.js) and returns its JSON output. */
function inChild(body: string, options: { cwd?: string; dist?: string } = {}): any {
  const loader = join(options.dist ?? join(root, 'dist'), 'native', 'loader.js');
  const script = `const loader = require(${JSON.stringify(loader)});\nconst out = (v) => console.log(JSON.stringify(v));\n${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: options.cwd ?? root, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const tried = `try { loader.loadAddon(); out({ loaded: true }); } catch (e) { out({ code: e.code, tried: e.tried, message: e.message }); }`;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sspi-loader-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('setNativeBinding', () => {
  it('refuses what is neither a path nor the addon module, with SEC_E_INVALID_PARAMETER', () => {
    const r = inChild(`
      const codes = [];
      for (const v of ['', {}, { setErrorClass() {} }, null, 42]) {
        try { loader.setNativeBinding(v); codes.push('accepted'); } catch (e) { codes.push(e.code + ':' + e.operation); }
      }
      out(codes);`);
    expect(r).toEqual(Array(5).fill('SEC_E_INVALID_PARAMETER:setNativeBinding'));
  });

  it('a path given in code is the only one tried, over SSPI_CONTEXT_ADDON', () => {
    const file = join(tmp, 'given', 'sspi_context.node');
    const r = inChild(`process.env.SSPI_CONTEXT_ADDON = '/elsewhere/x.node'; loader.setNativeBinding(${JSON.stringify(file)}); ${tried}`);
    expect(r.tried).toEqual([`${file} (not found)`]);
    expect(r.message).toMatch(/setNativeBinding/);
  });

  it('a module already loaded is used as is, and gets SspiError as its error class', () => {
    const r = inChild(`
      const { SspiError } = require(${JSON.stringify(join(root, 'dist', 'errors.js'))});
      let cls;
      const mod = { setErrorClass(c) { cls = c; }, acquireCredentialsHandle() {} };
      loader.setNativeBinding(mod);
      out({ same: loader.loadAddon() === mod, registered: cls === SspiError });`);
    expect(r).toEqual({ same: true, registered: true });
  });
});

describe('lookup', () => {
  it("node-gyp-build picks prebuilds/<platform>-<arch>/sspi-context.node under the package's root, no env var", () => {
    // A copy of the package as npm lays it out, with a (not loadable) prebuild for this platform.
    const pkg = join(tmp, 'pkg');
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'sspi-context', version: '0.0.0' }));
    mkdirSync(join(pkg, 'node_modules'));
    symlinkSync(join(root, 'node_modules', 'node-gyp-build'), join(pkg, 'node_modules', 'node-gyp-build'), 'dir');
    const prebuild = join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, 'sspi-context.node');
    mkdirSync(join(prebuild, '..'), { recursive: true });
    writeFileSync(prebuild, 'not a shared object');
    const r = inChild(tried, { dist: join(pkg, 'dist'), cwd: tmp });
    // Tried (and failed to dlopen), not merely listed as missing.
    expect(r.tried[0]).toMatch(new RegExp(`^${prebuild.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\((?!not found)`));
  });

  it("never looks in the current directory's node_modules (DLL planting)", () => {
    const cwd = join(tmp, 'planted');
    for (const dir of ['build/Release', 'build/Debug', `prebuilds/${process.platform}-${process.arch}`]) {
      mkdirSync(join(cwd, 'node_modules', 'sspi-context', dir), { recursive: true });
      writeFileSync(join(cwd, 'node_modules', 'sspi-context', dir, dir.startsWith('build') ? 'sspi_context.node' : 'sspi-context.node'), 'planted');
    }
    const r = inChild(tried, { cwd });
    expect(r.tried.length).toBeGreaterThan(0);
    expect(r.tried.filter((t: string) => t.includes(cwd))).toEqual([]);
  });
});
