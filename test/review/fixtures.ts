// Shared by the review tests: cleanup after each test, a real clear envelope, and
// the check that a failure is the typed SspiError the API documents.
import { afterEach, expect } from 'vitest';
import { api, establish } from '../helpers/handshake';

api.setBackend('fallback');

/** Functions run (last first) after each test of the file that calls this. */
export function useClosers(): Array<() => unknown> {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  return closers;
}

/** A clear (unsealed) envelope of a real, established NTLM server context. */
export async function clearEnvelope(closers: Array<() => unknown>): Promise<Buffer> {
  const pair = await establish('NTLM');
  closers.push(() => pair.close());
  return api.encodeHandoff(await pair.server.export());
}

/** What `fn` threw (or rejected with); undefined when it did not. */
export async function failureOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** `err` is an SspiError with this status name and operation. */
export function expectSspiError(err: unknown, code: string, operation: string): void {
  expect(err).toBeInstanceOf(api.SspiError);
  expect((err as InstanceType<typeof api.SspiError>).code).toBe(code);
  expect((err as InstanceType<typeof api.SspiError>).operation).toBe(operation);
}
