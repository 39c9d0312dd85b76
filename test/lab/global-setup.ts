/**
 * vitest globalSetup: brings the lab up once for the whole run (installing whatever is
 * missing: a missing part fails the run, it never skips tests) and provides its env as
 * `inject('lab')`. Tears it down afterwards unless `PLATCTL_LAB_KEEP` is set, and fails the run if any lab
 * log shows traffic off loopback (`loopback.ts`).
 */
import type { TestProject } from 'vitest/node';
import { labDown, labUp } from './lab.js';
import type { LabEnv } from './lab-env.js';
import { scanLabLogs } from './loopback.js';

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
    // Loopback only: read the logs before `down` removes them; a hit fails the run.
    const hits = scanLabLogs(env.logsDir);
    if (!process.env.PLATCTL_LAB_KEEP) await labDown();
    if (hits.length) {
      const lines = hits.slice(0, 20).map((h) => `  ${h.log}: ${h.line}`);
      throw new Error(`lab: ${hits.length} log line(s) show traffic off loopback:\n${lines.join('\n')}`);
    }
  };
}
