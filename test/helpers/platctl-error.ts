/** Awaiting a promise that must reject with a PlatctlError. */
import { isPlatctlError, type PlatctlError } from '../../src/errors.js';

/**
 * Resolves to the PlatctlError `p` rejects with. Fails with "expected <expected>" if `p` resolves, and rethrows
 * any other error unchanged.
 */
export function platctlFailure(p: Promise<unknown>, expected = 'a failure'): Promise<PlatctlError> {
  return p.then(
    () => {
      throw new Error(`expected ${expected}`);
    },
    (e: unknown) => {
      if (!isPlatctlError(e)) throw e;
      return e as PlatctlError;
    },
  );
}

/** Resolves to the PlatctlError `p` rejects with, asserting its code. */
export async function expectPlatctlError(p: Promise<unknown>, code: string): Promise<PlatctlError> {
  const e = await platctlFailure(p, code);
  if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`);
  return e;
}
