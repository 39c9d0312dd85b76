/**
 * For tests: the running lab, as provided by `test/lab/global-setup.ts`.
 *
 *   import { lab } from '../lab/env.js';
 *   const { kubeconfig, awsEndpoint } = lab();
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
export async function claimLab(): Promise<Claim<LabEnv>> {
  const labs = inject('labs');
  const first = (Number(process.env.VITEST_POOL_ID ?? '1') - 1 + labs.length) % labs.length;
  const claimed = await claimOne([...labs.slice(first), ...labs.slice(0, first)]);
  process.env.PLATCTL_LAB_DIR = claimed.env.labDir;
  return claimed;
}

/** A lab claimed by this file: the lab, its release, and whether the claim is still this file's own. */
export interface Claim<T> {
  env: T;
  release: () => void;
  held: () => boolean;
  /** The lab's last claim events (claimed, released, taken over), for an error. */
  history: () => string;
}

/**
 * The first of `labs` whose claim file this process creates, waiting while all are held. The claim holds
 * `<pid> <random>`, and the release removes the file only while it still holds exactly that: a release that
 * comes late (the process's exit, after the file already let its lab go and another file claimed it) never
 * removes the next holder's claim, which would let a third file onto a lab in use.
 */
export async function claimOne<T extends { labDir: string }>(
  labs: readonly T[],
  timeoutMs = 600_000,
): Promise<Claim<T>> {
  const token = `${process.pid} ${randomUUID()}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const env of labs) {
      const { claim: file, claimLog: log } = labPaths(env.labDir);
      try {
        writeFileSync(file, token, { flag: 'wx' });
        note(log, `claimed by ${token}`);
        const release = () => {
          process.off('exit', release);
          if (readIfThere(file) !== token) return;
          rmSync(file, { force: true });
          note(log, `released by ${token}`);
        };
        process.once('exit', release);
        return { env, release, held: () => readIfThere(file) === token, history: () => history(log) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const held = readIfThere(file);
        const holder = Number(held?.split(' ')[0]);
        // A killed worker's claim; read again just before, so a claim made meanwhile is not the one removed.
        if (holder && !alive(holder) && readIfThere(file) === held) {
          rmSync(file, { force: true });
          note(log, `taken from ${held} (gone) by ${token}`);
        }
      }
    }
    if (Date.now() > deadline) throw new Error(`no free lab among ${labs.map((l) => l.labDir).join(', ')}`);
    await sleep(200);
  }
}

/** Appends one event to a lab's claim history, which a lost claim's error shows. */
function note(log: string, what: string): void {
  appendFileSync(log, `${new Date().toISOString()} ${what}\n`);
}

/** The last events of a lab's claim history. */
function history(log: string): string {
  const lines = readIfThere(log)?.trim().split('\n') ?? [];
  return lines.slice(-8).join('; ');
}

/** A file's content, or undefined when it is not there (a claim released meanwhile). */
function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** This file's lab (addresses, paths, binaries): the one file-guard claimed for it; up for the whole run. */
export function lab(): LabEnv {
  const labs = inject('labs');
  const env = labs.find((l) => l.labDir === process.env.PLATCTL_LAB_DIR);
  if (!env) throw new Error(`no lab claimed for this file (PLATCTL_LAB_DIR=${process.env.PLATCTL_LAB_DIR})`);
  return env;
}
