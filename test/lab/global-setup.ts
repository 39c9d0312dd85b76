/**
 * vitest globalSetup: brings the test run's labs up once for the whole run (installing whatever is missing: a
 * missing part fails the run, it never skips tests) and provides their envs as `inject('labs')`, one per worker
 * of the lab project (`labWorkers()`; `lab()` in env.ts picks the worker's own). Tears them down afterwards unless
 * `PLATCTL_LAB_KEEP` is set, and fails the run if any lab log shows traffic off loopback (`loopback.ts`).
 */
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { ensureBuiltCli } from '../helpers/built-cli.js';
import { labDirs, labPaths } from './config.js';
import { labDown, labUp, withLabDir } from './lab.js';
import type { LabEnv } from './lab-env.js';
import { scanLabLogs } from './loopback.js';

declare module 'vitest' {
  export interface ProvidedContext {
    labs: LabEnv[];
  }
}

/** Starts the labs and provides their envs; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Files that run the built CLI check dist/ too; built here once, two of them never rebuild it under each other.
  ensureBuiltCli();
  const dirs = labDirs();
  const labs: LabEnv[] = [];
  for (const [i, dir] of dirs.entries()) {
    const log = (msg: string) => console.error(dirs.length > 1 ? `[lab ${i + 1}] ${msg}` : msg);
    // Each lab's ports stay clear of those before it, listened on yet or not (the Flux controllers' come later).
    const avoid = labs.flatMap((l) => Object.values(l.ports));
    labs.push(await withLabDir(dir, () => labUp(log, avoid)));
  }
  // Claims of test files of an earlier run that was killed (env.ts): none runs yet.
  for (const env of labs) {
    rmSync(labPaths(env.labDir).claim, { force: true });
    rmSync(labPaths(env.labDir).claimLog, { force: true });
  }
  project.provide('labs', labs);
  return async () => {
    const lines: string[] = [];
    for (const env of labs) {
      // Loopback only: read the logs before `down` removes them; a hit fails the run.
      const hits = scanLabLogs(env.logsDir);
      lines.push(...hits.map((h) => `  ${h.log}: ${h.line}`));
      if (!process.env.PLATCTL_LAB_KEEP) await withLabDir(env.labDir, labDown);
    }
    if (lines.length) {
      const shown = lines.slice(0, 20).join('\n');
      throw new Error(`lab: ${lines.length} log line(s) show traffic off loopback:\n${shown}`);
    }
  };
}
