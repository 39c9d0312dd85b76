/**
 * vitest globalSetup: brings the lab up once for the whole run (installing whatever is
 * missing: a missing part fails the run, it never skips tests) and provides its env as
 * `inject('lab')`. Tears it down afterwards unless `PLATCTL_LAB_KEEP` is set.
 */
import type { TestProject } from 'vitest/node';
import { labDown, labUp } from './lab.js';
import type { LabEnv } from './lab-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    lab: LabEnv;
  }
}

/** Starts the lab and provides its env; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = await labUp((msg) => console.error(msg));
  project.provide('lab', env);
  return async () => {
    if (!process.env.PLATCTL_LAB_KEEP) await labDown();
  };
}
