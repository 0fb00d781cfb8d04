/**
 * Finds and loads the addon. In order:
 * 1. what `setNativeBinding()` was given (a path, or a module the caller already loaded);
 * 2. an explicit path (option or SSPI_CONTEXT_ADDON), tried alone;
 * 3. node-gyp-build's choice under the package root (build/Release, build/Debug, then the
 *    prebuild of `prebuilds/<platform>-<arch>/` whose tags fit), then the same folders by name.
 * The package root is this file's own (dist/native -> ..); never the current working
 * directory's node_modules, where anyone who can write a folder could plant a DLL.
 * Electron's app.asar maps to app.asar.unpacked. Loading uses process.dlopen with a
 * computed path, so bundlers neither rewrite nor inline it. On failure the Error lists
 * every path tried.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
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

/** A binding given in code: a path to the .node file, or the module `require()` returned for it. */
let given: string | NativeBinding | undefined;
/** Set once the default load succeeded: a later setNativeBinding would be silently ignored. */
let loadedByDefault = false;

function isBinding(value: unknown): value is NativeBinding {
  const v = value as Partial<Record<keyof NativeBinding, unknown>> | null;
  return typeof v === 'object' && v !== null && typeof v.setErrorClass === 'function' && typeof v.acquireCredentialsHandle === 'function';
}

/**
 * Tells the loader where the addon is, as better-sqlite3's `nativeBinding` option does:
 * for bundles (whose `__dirname` is not the package's) and packagers. Call it before the
 * first SSPI call; it wins over SSPI_CONTEXT_ADDON and the package's own prebuilds.
 * @param pathOrLoadedModule The `.node` file's path, or the object `require()` returned for it.
 * @throws SspiError SEC_E_INVALID_PARAMETER when the argument is neither, or when the addon
 * was already loaded from elsewhere.
 */
export function setNativeBinding(pathOrLoadedModule: string | object): void {
  const op = 'setNativeBinding';
  if (typeof pathOrLoadedModule === 'string') {
    if (pathOrLoadedModule.length === 0) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'the path is empty');
  } else if (!isBinding(pathOrLoadedModule)) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'expected the path of sspi_context.node or the module loaded from it');
  }
  if (loadedByDefault) throw new SspiError('SEC_E_INVALID_PARAMETER', op, 'the native addon is already loaded; call setNativeBinding before the first SSPI call');
  given = pathOrLoadedModule as string | NativeBinding;
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
  // Bundled (ESM output has no __dirname) there is no package root: setNativeBinding.
  if (typeof __dirname === 'string') roots.push(path.resolve(__dirname, '..', '..'));
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (typeof resources === 'string') {
    roots.push(path.join(resources, 'app.asar.unpacked', 'node_modules', 'sspi-context'));
  }
  return roots;
}

type NodeGypBuild = { path(dir: string): string };

/** node-gyp-build as the package's own dependency, resolved from the root (never bundled, never from cwd). */
function nodeGypBuildChoice(root: string, tried: string[]): string | undefined {
  let ngb: NodeGypBuild;
  try {
    ngb = createRequire(path.join(root, 'package.json'))('node-gyp-build') as NodeGypBuild;
  } catch {
    return undefined; // not installed beside this root: the folders below are still searched
  }
  try {
    return ngb.path(root);
  } catch (e) {
    tried.push(`node-gyp-build in ${root} (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
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

/** Every path the loader would try by name, in order (node-gyp-build's choice comes first at load time). */
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

function register(binding: NativeBinding): NativeBinding {
  binding.setErrorClass(SspiError);
  return binding;
}

/**
 * Loads the addon and registers SspiError with it. Throws an Error listing the paths tried.
 * @internal
 */
export function loadAddon(options: LoadAddonOptions = {}): NativeBinding {
  const tried: string[] = [];
  const useGiven = given !== undefined && options.path === undefined && options.roots === undefined;
  if (useGiven && typeof given === 'object') return register(given);
  const explicit = useGiven ? (given as string) : options.path;
  let candidates = addonCandidates(explicit !== undefined ? { ...options, path: explicit } : options);
  if (explicit === undefined && !process.env[ADDON_ENV] && options.roots === undefined && options.platform === undefined && options.arch === undefined) {
    const chosen = defaultRoots().flatMap((root) => {
      const c = nodeGypBuildChoice(root, tried);
      return c ? asarUnpacked(c) : [];
    });
    candidates = [...new Set([...chosen, ...candidates])];
  }
  for (const file of candidates) {
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
    if (!isBinding(mod.exports)) {
      tried.push(`${file} (not the sspi-context addon)`);
      continue;
    }
    if (options.path === undefined && options.roots === undefined) loadedByDefault = true;
    return register(mod.exports);
  }
  const error = new Error(
    `sspi-context: cannot load the native addon (${process.platform}-${process.arch}). Tried:\n  ${tried.join('\n  ')}\n` +
      `Call setNativeBinding(path) or set ${ADDON_ENV} to the .node file, or rebuild with npm rebuild sspi-context.`,
  );
  (error as Error & { tried: string[] }).tried = tried;
  throw error;
}
