/**
 * Finds and loads the addon. Paths are those of node-gyp-build (build/Release,
 * build/Debug, prebuilds/<platform>-<arch>/*.node) under every plausible package root,
 * with Electron's app.asar mapped to app.asar.unpacked. An explicit path (option or
 * SSPI_CONTEXT_ADDON) is tried alone. Loading uses process.dlopen with a computed path,
 * so bundlers neither rewrite nor inline it. On failure the Error lists every path tried.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SspiError } from '../errors.js';
import type { NativeBinding } from './native.js';

export const ADDON_FILE = 'sspi_context.node';
export const ADDON_ENV = 'SSPI_CONTEXT_ADDON';

export interface LoadAddonOptions {
  /** The .node file to load; when given (or SSPI_CONTEXT_ADDON is set), nothing else is tried. */
  path?: string;
  /** Package roots to search instead of the defaults (tests). */
  roots?: string[];
  platform?: string;
  arch?: string;
}

/** Electron cannot dlopen from inside an asar archive: prefer the unpacked copy. */
export function asarUnpacked(file: string): string[] {
  const m = /([\\/])app\.asar([\\/])/.exec(file);
  if (!m) return [file];
  return [file.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2'), file];
}

function defaultRoots(): string[] {
  const roots: string[] = [];
  // dist/native/loader.js -> package root; lib/native/loader.ts (ts runners) likewise.
  if (typeof __dirname === 'string') roots.push(path.resolve(__dirname, '..', '..'));
  try {
    roots.push(path.dirname(require.resolve('sspi-context/package.json')));
  } catch {
    // Not resolvable (bundled, or running from the source tree).
  }
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (typeof resources === 'string') {
    roots.push(path.join(resources, 'app.asar.unpacked', 'node_modules', 'sspi-context'));
  }
  roots.push(path.join(process.cwd(), 'node_modules', 'sspi-context'));
  return roots;
}

function listNodeFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.node'))
      .sort((a, b) => Number(b.includes('napi')) - Number(a.includes('napi')) || a.localeCompare(b))
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** Every path the loader would try, in order. */
export function addonCandidates(options: LoadAddonOptions = {}): string[] {
  const explicit = options.path ?? process.env[ADDON_ENV];
  const out: string[] = [];
  const add = (p: string): void => {
    for (const c of asarUnpacked(path.resolve(p))) if (!out.includes(c)) out.push(c);
  };
  if (explicit) {
    add(explicit);
    return out;
  }
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  for (const root of options.roots ?? defaultRoots()) {
    add(path.join(root, 'build', 'Release', ADDON_FILE));
    add(path.join(root, 'build', 'Debug', ADDON_FILE));
    const prebuilds = path.join(root, 'prebuilds', `${platform}-${arch}`);
    const found = listNodeFiles(prebuilds);
    if (found.length === 0) add(path.join(prebuilds, 'node.napi.node'));
    for (const f of found) add(f);
  }
  return out;
}

/**
 * Loads the addon and registers SspiError with it. Throws an Error listing the paths tried.
 * @internal
 */
export function loadAddon(options: LoadAddonOptions = {}): NativeBinding {
  const tried: string[] = [];
  for (const file of addonCandidates(options)) {
    if (!fs.existsSync(file)) {
      tried.push(`${file} (not found)`);
      continue;
    }
    const mod: { exports: unknown } = { exports: {} };
    try {
      process.dlopen(mod as NodeJS.Module, file);
    } catch (e) {
      tried.push(`${file} (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    const binding = mod.exports as NativeBinding;
    binding.setErrorClass(SspiError);
    return binding;
  }
  const error = new Error(
    `sspi-context: cannot load the native addon (${process.platform}-${process.arch}). Tried:\n  ${tried.join('\n  ')}\n` +
      `Set ${ADDON_ENV} to the .node file, or rebuild with npm rebuild sspi-context.`,
  );
  (error as Error & { tried: string[] }).tried = tried;
  throw error;
}
