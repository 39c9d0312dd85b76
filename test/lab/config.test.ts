/**
 * How many labs a test run starts, and where: one per worker of the lab project (`PLATCTL_LAB_WORKERS`, default
 * 2), the first in the lab dir and the others beside it, so files that run at once never share a lab.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { saveEnv } from '../helpers/saved-env.js';
import { labDir, labDirs, labWorkers } from './config.js';

const restore = saveEnv('PLATCTL_LAB_WORKERS', 'PLATCTL_LAB_DIR');
afterEach(restore);

describe('the test run’s labs', () => {
  it('are two by default, the first in the lab dir and the second beside it', () => {
    delete process.env.PLATCTL_LAB_WORKERS;
    process.env.PLATCTL_LAB_DIR = '/srv/x/.lab';
    expect(labWorkers()).toBe(2);
    expect(labDirs()).toEqual(['/srv/x/.lab', '/srv/x/.lab-2']);
    expect(labDirs()[0]).toBe(labDir());
  });

  it('follow PLATCTL_LAB_WORKERS, and one worker is the one lab', () => {
    process.env.PLATCTL_LAB_DIR = '/srv/x/.lab';
    process.env.PLATCTL_LAB_WORKERS = '3';
    expect(labDirs()).toEqual(['/srv/x/.lab', '/srv/x/.lab-2', '/srv/x/.lab-3']);
    process.env.PLATCTL_LAB_WORKERS = '1';
    expect(labDirs()).toEqual(['/srv/x/.lab']);
  });

  it('refuse a worker count that is not a whole number from 1 to 8, naming the variable', () => {
    for (const bad of ['0', '9', '1.5', 'two', '']) {
      process.env.PLATCTL_LAB_WORKERS = bad;
      expect(() => labWorkers()).toThrow(/PLATCTL_LAB_WORKERS must be 1–8/);
    }
  });
});
