/**
 * For tests: the running lab, as provided by `test/lab/global-setup.ts`.
 *
 *   import { lab } from '../lab/env.js';
 *   const { kubeconfig, awsEndpoint } = lab();
 */
import { inject } from 'vitest';
import type { LabEnv } from './lab-env.js';

export type { LabEnv } from './lab-env.js';
export { baoProcessEnv, labProcessEnv } from './lab-env.js';

/**
 * This worker's lab (addresses, paths, binaries); it is up for the whole test run. The lab project runs one file
 * per worker at a time and vitest numbers the running workers 1…maxWorkers (`VITEST_POOL_ID`), so two files that
 * run at once never share a lab.
 */
export function lab(): LabEnv {
  const labs = inject('labs');
  const worker = Number(process.env.VITEST_POOL_ID ?? '1');
  const env = labs[worker - 1];
  // More workers than labs (VITEST_MAX_WORKERS overrides the project's maxWorkers) would put two files on one lab.
  if (!env)
    throw new Error(
      `lab worker ${worker} has no lab: ${labs.length} started; set PLATCTL_LAB_WORKERS, not the worker count`,
    );
  return env;
}
