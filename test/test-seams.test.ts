/**
 * The test-only seams live in src/test-seams.ts and nowhere else: no other product file reads a PLATCTL_TEST_*
 * variable or defines a test helper, and each seam does nothing unless its variable names it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { crashPoint, pausePoint, testStepsModule } from '../src/test-seams.js';
import { withEnv } from './helpers/saved-env.js';

const root = path.resolve(import.meta.dirname, '..');
const productFiles = ['src', 'steps'].flatMap((dir) =>
  readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name))),
);

afterEach(() => vi.restoreAllMocks());

describe('test seams', () => {
  it('only src/test-seams.ts reads a PLATCTL_TEST_* variable', () => {
    const readers = productFiles.filter((f) =>
      /process\.env\.PLATCTL_TEST_|\bPLATCTL_TEST_\w+['"`]/.test(readFileSync(path.join(root, f), 'utf8')),
    );
    expect(readers).toEqual(['src/test-seams.ts']);
  });

  it('no product file defines a test-only helper (a memory logger, a fake)', () => {
    const defining = productFiles.filter((f) =>
      /export (?:async )?function (?:memoryLogger|fake\w*)\b/.test(readFileSync(path.join(root, f), 'utf8')),
    );
    expect(defining).toEqual([]);
  });

  it('crashPoint kills the process only at a point PLATCTL_TEST_CRASH names', () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    withEnv({ PLATCTL_TEST_CRASH: undefined }, () => crashPoint('kms', 'after-create-key'));
    withEnv({ PLATCTL_TEST_CRASH: 'iam:start,kms:end' }, () => {
      crashPoint('kms', 'start');
      crashPoint('kms', 'after-create-key');
    });
    expect(kill).not.toHaveBeenCalled();
    withEnv({ PLATCTL_TEST_CRASH: 'iam:start,kms:end' }, () => crashPoint('kms', 'end'));
    expect(kill).toHaveBeenCalledExactlyOnceWith(process.pid, 'SIGKILL');
  });

  it('pausePoint holds only at its point, until the file exists', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'platctl-seams-'));
    const file = path.join(dir, 'go');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await withEnv({ PLATCTL_TEST_PAUSE: `run:locked=${file}` }, async () => {
        await pausePoint('run', 'elsewhere'); // returns at once: the test would time out otherwise
        let released = false;
        const held = pausePoint('run', 'locked').then(() => {
          released = true;
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(released).toBe(false);
        writeFileSync(file, '');
        await held;
        expect(released).toBe(true);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('testStepsModule is unset in a normal run', () => {
    expect(withEnv({ PLATCTL_TEST_STEPS: undefined }, testStepsModule)).toBeUndefined();
    expect(withEnv({ PLATCTL_TEST_STEPS: 'x/steps.ts' }, testStepsModule)).toBe('x/steps.ts');
  });
});
