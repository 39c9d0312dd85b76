/**
 * The cluster run lock (Lease platctl-system/platctl-lock) over the fake cluster: a live holder refuses with
 * exit 3, an expired lease is taken over, --break-lock takes over a live one, release clears the holder.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import type { RunLock } from '../../src/lock/file-lock.js';
import { holderIdentity } from '../../src/lock/holder.js';
import { acquireLease, LOCK_LEASE } from '../../src/lock/lease.js';
import { SYSTEM_NAMESPACE } from '../../src/state/configmap.js';
import { createFakeKube, type FakeKube } from '../helpers/fake-kube.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { platctlFailure } from '../helpers/platctl-error.js';

const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: SYSTEM_NAMESPACE, name: LOCK_LEASE };
type Lease = KubeObject & {
  spec: { holderIdentity: string | null; renewTime?: string; acquireTime?: string; leaseTransitions?: number };
};
const other = 'ci@runner-7.example.com:4242';
const held: RunLock[] = [];
afterEach(async () => {
  for (const l of held.splice(0)) await l.release();
});

const take = async (kube: FakeKube, breakLock = false) => {
  const log = memoryLogger();
  const lock = await acquireLease(kube, { command: 'bootstrap', log, breakLock });
  held.push(lock);
  return { lock, log };
};
const refused = (p: Promise<unknown>) => platctlFailure(p, 'LOCK_HELD');

/** A cluster where `holder` took the Lease `minutesAgo` and last renewed it `renewedAgo` seconds ago. */
function clusterWithLease(holder: string, minutesAgo: number, renewedAgo: number): FakeKube {
  const kube = createFakeKube();
  kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } });
  const t = (s: number) => new Date(Date.now() - s * 1000).toISOString();
  kube.seed({
    ...ref,
    metadata: { name: LOCK_LEASE, namespace: SYSTEM_NAMESPACE },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 60,
      acquireTime: t(minutesAgo * 60),
      renewTime: t(renewedAgo),
      leaseTransitions: 2,
    },
  });
  return kube;
}

describe('acquireLease', () => {
  it('creates the namespace and the Lease on an empty cluster, held by this process', async () => {
    const kube = createFakeKube();
    await take(kube);
    expect(kube.peek<Lease>(ref)?.spec.holderIdentity).toBe(holderIdentity());
  });

  it('refuses while another live holder renews it: LOCK_HELD, exit 3, holder and age', async () => {
    const kube = clusterWithLease(other, 7, 5);
    const err = await refused(acquireLease(kube, { command: 'bootstrap', log: memoryLogger(), cluster: 'demo' }));
    expect(err.code).toBe('LOCK_HELD');
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(
      new RegExp(`^cluster demo is locked by ${other} for 7m\\ds \\(Lease ${SYSTEM_NAMESPACE}/${LOCK_LEASE}\\)`),
    );
    expect(kube.peek<Lease>(ref)?.spec.holderIdentity).toBe(other);
  });

  it('refuses a second platctl in the same cluster while the first holds it', async () => {
    const kube = createFakeKube();
    await take(kube);
    // A different holder identity: this test's process plays a second run on another machine.
    const lease = kube.peek<Lease>(ref)!;
    kube.seed({ ...lease, spec: { ...lease.spec, holderIdentity: other } });
    const err = await refused(acquireLease(kube, { command: 'x', log: memoryLogger() }));
    expect(err.code).toBe('LOCK_HELD');
    // The holder's command, from the Lease: what the refused run is waiting for.
    expect(err.message).toContain(`locked by ${other} (bootstrap) for `);
  });

  it('takes over an expired lease, counting the transition and warning', async () => {
    const kube = clusterWithLease(other, 30, 120);
    const { log } = await take(kube);
    const lease = kube.peek<Lease>(ref)!;
    expect(lease.spec.holderIdentity).toBe(holderIdentity());
    expect(lease.spec.leaseTransitions).toBe(3);
    expect(log.lines.join('\n')).toContain(`taking over the lock held by ${other} (expired)`);
  });

  it('--break-lock takes over a live one', async () => {
    const kube = clusterWithLease(other, 1, 1);
    await take(kube, true);
    expect(kube.peek<Lease>(ref)?.spec.holderIdentity).toBe(holderIdentity());
  });

  it('retries when someone else writes the Lease between its read and its write', async () => {
    const kube = clusterWithLease(other, 30, 120);
    let bumped = false;
    kube.beforeWrite = (verb) => {
      if (verb === 'replace' && !bumped) {
        bumped = true;
        kube.seed(kube.peek(ref)!);
      }
    };
    await take(kube);
    expect(kube.peek<Lease>(ref)?.spec.holderIdentity).toBe(holderIdentity());
  });

  it('release clears the holder, and the next run takes it without a warning', async () => {
    const kube = createFakeKube();
    const { lock } = await take(kube);
    await lock.release();
    held.length = 0;
    expect(kube.peek<Lease>(ref)?.spec.holderIdentity).toBeNull();
    const { log } = await take(kube);
    expect(log.lines.filter((l) => l.includes('taking over'))).toEqual([]);
  });

  it('renews while the run lives; a failed renewal warns, and one that works again keeps the Lease ours', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T08:00:00Z') });
    try {
      const kube = createFakeKube();
      const { lock, log } = await take(kube);
      const first = kube.peek<Lease>(ref)?.spec.renewTime;
      await vi.advanceTimersByTimeAsync(15_000);
      const second = kube.peek<Lease>(ref)?.spec.renewTime;
      expect(String(second) > String(first)).toBe(true);
      // The apiserver away for one renewal.
      const replace = kube.replace.bind(kube);
      kube.replace = async () => {
        kube.replace = replace;
        throw new Error('connection refused');
      };
      await vi.advanceTimersByTimeAsync(15_000);
      expect(log.lines.join('\n')).toContain('could not renew the run lock: connection refused');
      expect(kube.peek<Lease>(ref)?.spec.renewTime).toBe(second);
      await vi.advanceTimersByTimeAsync(15_000);
      expect(String(kube.peek<Lease>(ref)?.spec.renewTime) > String(second)).toBe(true);
      await lock.release();
      expect(kube.peek<Lease>(ref)?.spec.holderIdentity).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
