/** The native (Windows SSPI) backend: addon loader and Backend implementation. */
import type { Backend } from '../backend/types.js';
import { createNativeBackend } from './backend.js';
import { loadAddon, type LoadAddonOptions } from './loader.js';

export { ATTRIBUTE_IDS } from './backend.js';
export { addonCandidates, asarUnpacked, ADDON_ENV, ADDON_FILE, type LoadAddonOptions } from './loader.js';
/** @internal */
export { createNativeBackend } from './backend.js';
/** @internal */
export { loadAddon } from './loader.js';

let cached: Backend | undefined;

/**
 * Loads the addon (once per thread unless a path is given) and returns the native backend.
 * Throws an Error listing every path tried when the addon cannot load.
 */
export function loadNativeBackend(options?: LoadAddonOptions): Backend {
  if (options !== undefined) return createNativeBackend(loadAddon(options));
  cached ??= createNativeBackend(loadAddon());
  return cached;
}
