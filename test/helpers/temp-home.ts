/**
 * A fresh, empty PLATCTL_HOME per test: a temp dir created before each test and removed after it, with the
 * previous PLATCTL_HOME restored. Call at the top level of a test file (or inside a describe).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** Registers the hooks; the returned function gives the current test's home dir. */
export function useTempHome(): () => string {
  let home: string | undefined;
  const saved = process.env.PLATCTL_HOME;
  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'platctl-home-'));
    process.env.PLATCTL_HOME = home;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.PLATCTL_HOME;
    else process.env.PLATCTL_HOME = saved;
    if (home !== undefined) rmSync(home, { recursive: true, force: true });
    home = undefined;
  });
  return () => {
    if (home === undefined) throw new Error('useTempHome: no test is running');
    return home;
  };
}
