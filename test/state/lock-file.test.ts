/**
 * The local run lock ($PLATCTL_HOME/<cluster>/lock): a live holder makes a second run exit 3 naming the holder
 * and the lock's age; a dead process's lock on this host is taken over; --break-lock takes over a live one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireFileLock } from '../../src/lock/file-lock.js';
import { formatAge, holderIdentity, holderIsDead } from '../../src/lock/holder.js';
import { whoAmI } from '../../src/paths.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { platctlFailure } from '../helpers/platctl-error.js';
import { useTempHome } from '../helpers/temp-home.js';

const home = useTempHome();

const lockFile = () => path.join(home(), 'demo', 'lock');
const opts = (extra: { breakLock?: boolean } = {}) => ({ command: 'bootstrap', log: memoryLogger(), ...extra });
const plant = (holder: string, minutesAgo: number) => {
  mkdirSync(path.dirname(lockFile()), { recursive: true });
  const acquiredAt = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  writeFileSync(lockFile(), JSON.stringify({ holder, acquiredAt, command: 'teardown' }));
};
const refused = (p: Promise<unknown>) => platctlFailure(p, 'LOCK_HELD');

/** The pid of a process that has exited (pids are not reused this quickly). */
const deadPid = () => spawnSync('true').pid;

describe('acquireFileLock', () => {
  it('writes a 0600 lock naming this process and removes it on release', async () => {
    const lock = await acquireFileLock('demo', opts());
    const held = JSON.parse(readFileSync(lockFile(), 'utf8'));
    expect(held).toMatchObject({ holder: holderIdentity(), command: 'bootstrap' });
    await lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('refuses a second run while held: LOCK_HELD, exit 3, holder, command and age', async () => {
    const first = await acquireFileLock('demo', opts());
    const err = await refused(acquireFileLock('demo', opts()));
    expect(err.code).toBe('LOCK_HELD');
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(new RegExp(`locked by ${holderIdentity()} \\(bootstrap\\) for \\d+s`));
    expect(err.hint).toContain('--break-lock');
    await first.release();
    await (await acquireFileLock('demo', opts())).release();
  });

  it('names the age of a live holder’s lock (another live process on this host)', async () => {
    const child = spawn('sleep', ['30']);
    try {
      plant(`${whoAmI()}:${child.pid}`, 3);
      const err = await refused(acquireFileLock('demo', opts()));
      expect(err.message).toMatch(new RegExp(`locked by ${whoAmI()}:${child.pid} \\(teardown\\) for 3m\\ds`));
      expect(JSON.parse(readFileSync(lockFile(), 'utf8')).holder).toBe(`${whoAmI()}:${child.pid}`);
    } finally {
      child.kill();
    }
  });

  it('refuses a holder on another host, whose liveness it cannot know', async () => {
    plant('ci@some-other-host.example.com:4242', 1);
    expect((await refused(acquireFileLock('demo', opts()))).code).toBe('LOCK_HELD');
  });

  it('takes over the lock of a dead process on this host, with a warning', async () => {
    const pid = deadPid();
    plant(`${whoAmI()}:${pid}`, 10);
    const o = opts();
    const lock = await acquireFileLock('demo', o);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).holder).toBe(holderIdentity());
    expect(o.log.lines.join('\n')).toContain(`taking over the lock left by ${whoAmI()}:${pid}`);
    await lock.release();
  });

  it('--break-lock takes over a live holder', async () => {
    plant('ci@some-other-host.example.com:4242', 1);
    const lock = await acquireFileLock('demo', opts({ breakLock: true }));
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).holder).toBe(holderIdentity());
    await lock.release();
  });

  it('release does not remove a lock someone else took over meanwhile', async () => {
    const lock = await acquireFileLock('demo', opts());
    plant('ci@some-other-host.example.com:4242', 0);
    await lock.release();
    expect(existsSync(lockFile())).toBe(true);
  });
});

describe('holder helpers', () => {
  it('holderIsDead only for a gone process on this host', () => {
    expect(holderIsDead(holderIdentity())).toBe(false);
    expect(holderIsDead(`${whoAmI()}:${deadPid()}`)).toBe(true);
    expect(holderIsDead(`someone@elsewhere.example:${deadPid()}`)).toBe(false);
    expect(holderIsDead('garbage')).toBe(false);
  });

  it('formatAge', () => {
    const now = new Date('2025-01-01T12:00:00Z');
    expect(formatAge(new Date('2025-01-01T11:59:15Z'), now)).toBe('45s');
    expect(formatAge(new Date('2025-01-01T11:56:48Z'), now)).toBe('3m12s');
    expect(formatAge(new Date('2025-01-01T09:30:00Z'), now)).toBe('2h30m');
    expect(formatAge(new Date('2025-01-01T12:00:05Z'), now)).toBe('0s');
  });
});
