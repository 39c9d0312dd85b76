/** One problem preflight found, and the error that reports them all at once. */
import { PlatctlError } from '../errors.js';

/** A problem with one field of platform.yaml (or of the environment it runs in). */
export interface PreflightProblem {
  /** The field as users write it: `clusters[0].vault.pgpKeys[1]`, or `PATH` / `AWS credentials`. */
  field: string;
  message: string;
}

/** PREFLIGHT_FAILED (exit 2) listing every problem, one per line, with the promise that nothing was created. */
export function preflightError(problems: PreflightProblem[], source: string): PlatctlError {
  const n = problems.length;
  const lines = problems.map((p) => `${p.field}: ${p.message}`);
  return new PlatctlError(
    'PREFLIGHT_FAILED',
    `${source}: ${n} problem${n === 1 ? '' : 's'} found before anything was created:\n  ${lines.join('\n  ')}`,
    { hint: 'fix every line above and run again; nothing was created in AWS or the cluster' },
  );
}
