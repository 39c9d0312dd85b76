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
