/**
 * Picks the backend once, at the edge: native on win32, the fallback elsewhere.
 * SSPI_CONTEXT_BACKEND=native|fallback forces one. Modules load lazily so the
 * fallback never loads on Windows and the addon never loads elsewhere.
 */
import { SspiError } from '../errors.js';
import type { Backend } from './types.js';

export type BackendName = 'native' | 'fallback';

let chosen: Backend | undefined;

function loadFallback(): Backend {
  const mod = require('../fallback/index.js') as { createFallbackBackend(): Backend };
  return mod.createFallbackBackend();
}

function loadNative(): Backend {
  // loadNativeBackend throws an Error listing every path tried.
  const mod = require('../native/index.js') as { loadNativeBackend(): Backend };
  return mod.loadNativeBackend();
}

/** The name the environment or platform asks for. */
export function requestedBackend(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BackendName {
  const forced = env.SSPI_CONTEXT_BACKEND?.trim().toLowerCase();
  if (forced === 'native' || forced === 'fallback') return forced;
  if (forced) {
    throw new SspiError('SEC_E_INVALID_PARAMETER', 'SelectBackend', `SSPI_CONTEXT_BACKEND must be "native" or "fallback"`);
  }
  return platform === 'win32' ? 'native' : 'fallback';
}

/** Load a backend by name, uncached. */
export function loadBackend(name: BackendName): Backend {
  if (name === 'fallback') return loadFallback();
  try {
    return loadNative();
  } catch (e) {
    if (e instanceof SspiError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new SspiError('SEC_E_SECPKG_NOT_FOUND', 'LoadNativeBackend', `the native SSPI addon could not be loaded. ${why}`);
  }
}

/** The process-wide backend, chosen on first use. */
export function getBackend(): Backend {
  chosen ??= loadBackend(requestedBackend());
  return chosen;
}

/** Replace the process-wide backend (tests, or an explicit choice at startup). */
export function setBackend(backend: Backend | BackendName | undefined): void {
  chosen = typeof backend === 'string' ? loadBackend(backend) : backend;
}
