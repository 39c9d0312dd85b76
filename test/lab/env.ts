/**
 * For tests: the running lab, as provided by `test/lab/global-setup.ts`.
 *
 *   import { lab } from '../lab/env.js';
 *   const { kubeconfig, awsEndpoint } = lab();
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import type { LabEnv } from './lab-env.js';

export type { LabEnv } from './lab-env.js';
export { baoProcessEnv, labProcessEnv } from './lab-env.js';

import { labPaths } from './config.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims a lab no other running test file has (test/lab/file-guard.ts, before the file is imported): an exclusive
 * create of the lab's claim file, so two files never share a lab whatever the worker numbering; a claim whose
 * process is gone (a killed worker) is taken over. The worker's own lab (`VITEST_POOL_ID`) is tried first.
 * Returns the release.
 */
export async function claimLab(): Promise<{ env: LabEnv; release: () => void }> {
  const labs = inject('labs');
  const first = (Number(process.env.VITEST_POOL_ID ?? '1') - 1 + labs.length) % labs.length;
  const order = [...labs.slice(first), ...labs.slice(0, first)];
  const deadline = Date.now() + 600_000;
  for (;;) {
    for (const env of order) {
      const file = labPaths(env.labDir).claim;
      try {
        writeFileSync(file, String(process.pid), { flag: 'wx' });
        process.env.PLATCTL_LAB_DIR = env.labDir;
        const release = () => rmSync(file, { force: true });
        process.once('exit', release);
        return { env, release };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(readFileSync(file, 'utf8'));
        if (holder && !alive(holder)) rmSync(file, { force: true });
      }
    }
    if (Date.now() > deadline) throw new Error(`no free lab among ${labs.map((l) => l.labDir).join(', ')}`);
    await sleep(200);
  }
}

/** This file's lab (addresses, paths, binaries): the one file-guard claimed for it; up for the whole run. */
export function lab(): LabEnv {
  const labs = inject('labs');
  const env = labs.find((l) => l.labDir === process.env.PLATCTL_LAB_DIR);
  if (!env) throw new Error(`no lab claimed for this file (PLATCTL_LAB_DIR=${process.env.PLATCTL_LAB_DIR})`);
  return env;
}
