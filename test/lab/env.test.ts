/**
 * The test files' lab claims (test/lab/env.ts): one file per lab, a released lab goes to the next file, a killed
 * holder's claim is taken over, and a late release (a process's exit, after its file already let the lab go)
 * never removes the claim of the file that has the lab now.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labPaths } from './config.js';
import { claimOne } from './env.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'platctl-claims-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const labs = ['one', 'two'].map((n) => {
  const labDir = path.join(root, n);
  mkdirSync(labPaths(labDir).run, { recursive: true });
  return { labDir };
});
const held = (i: number) => existsSync(labPaths(labs[i]!.labDir).claim);

describe('lab claims', () => {
  it('gives each claimant a lab of its own, and waits while every lab is held', async () => {
    const a = await claimOne(labs);
    const b = await claimOne(labs);
    expect([a.env, b.env]).toEqual([labs[0], labs[1]]);
    await expect(claimOne(labs, 300)).rejects.toThrow(/no free lab/);
    const waiting = claimOne(labs, 5_000);
    a.release();
    const c = await waiting;
    expect(c.env).toBe(labs[0]);
    b.release();
    c.release();
    expect([held(0), held(1)]).toEqual([false, false]);
  });

  it('a late release never removes the claim of the file that has the lab now', async () => {
    const a = await claimOne(labs);
    a.release();
    const b = await claimOne(labs);
    expect(b.env).toBe(a.env);
    // a's process exits only now, and its exit releases again.
    a.release();
    expect(held(0)).toBe(true);
    expect([a.held(), b.held()]).toEqual([false, true]);
    expect(b.history()).toMatch(/claimed by .*released by .*claimed by /);
    const c = await claimOne(labs);
    expect(c.env).toBe(labs[1]);
    b.release();
    c.release();
  });

  it('takes over the claim of a process that is gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(labPaths(labs[0]!.labDir).claim, `${gone} x`);
    // The other lab is held by a live process (this one): taking over the dead claim is the only way in.
    writeFileSync(labPaths(labs[1]!.labDir).claim, `${process.pid} other`);
    const a = await claimOne(labs, 5_000);
    expect(a.env).toBe(labs[0]);
    expect(readFileSync(labPaths(labs[0]!.labDir).claim, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    a.release();
    rmSync(labPaths(labs[1]!.labDir).claim);
  });
});
