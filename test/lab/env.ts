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

/** The lab's env (addresses, paths, binaries); the lab is up for the whole test run. */
export function lab(): LabEnv {
  return inject('lab');
}
