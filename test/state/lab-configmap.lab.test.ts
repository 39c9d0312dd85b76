/** ConfigMapStore and the Lease lock against the lab's real kube-apiserver: 409 retry and lock contention. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, type KubeClient } from '../../src/clients/kube.js';
import { acquireLease } from '../../src/lock/lease.js';
import { removeClusterState } from '../../src/runner/session.js';
import { ConfigMapStore } from '../../src/state/configmap.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { lab } from '../lab/env.js';

let kube: KubeClient;
beforeAll(async () => {
  kube = await connectKube({ kubeconfig: lab().kubeconfig });
  await removeClusterState(kube).catch(() => undefined);
});
afterEach(async () => {
  await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'platctl-system', name: 'platctl-state' });
  await kube.delete({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: 'platctl-system',
    name: 'platctl-lock',
  });
});

describe('ConfigMapStore on a real apiserver', () => {
  it('retries a 409 by re-reading, so a concurrent write is never lost', async () => {
    const a = new ConfigMapStore(kube, 'c409');
    const b = new ConfigMapStore(kube, 'c409');
    await a.write({
      version: 1,
      cluster: 'c409',
      location: 'cluster',
      steps: {},
      phases: {},
      records: {},
      history: [],
    });
    await a.load(); // a caches resourceVersion N
    await b.update((s) => {
      s.steps.fromB = { status: 'done', outputs: { who: 'b' } };
    }); // now N+1: a's cache is stale
    let attempts = 0;
    await a.update((s) => {
      attempts++;
      s.steps.fromA = { status: 'done', outputs: { who: 'a' } };
    });
    expect(attempts).toBe(2); // first PUT got 409, second succeeded on the re-read state
    const final = await new ConfigMapStore(kube, 'c409').load();
    expect(Object.keys(final?.steps ?? {}).sort()).toEqual(['fromA', 'fromB']);
  });

  it('refuses state that belongs to another cluster', async () => {
    await new ConfigMapStore(kube, 'one').write({
      version: 1,
      cluster: 'one',
      location: 'cluster',
      steps: {},
      phases: {},
      records: {},
      history: [],
    });
    await expect(new ConfigMapStore(kube, 'two').load()).rejects.toMatchObject({ code: 'STATE_ELSEWHERE' });
  });
});

describe('Lease lock on a real apiserver', () => {
  it('a second holder is refused with exit 3 while the first holds it, and can take it after release', async () => {
    const log = memoryLogger();
    const held = await acquireLease(kube, { log, command: 'test' });
    // Same process identity would re-enter; simulate another live holder by rewriting the holder identity.
    const lease = await kube.get<{
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: Record<string, unknown>;
    }>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: 'platctl-system',
      name: 'platctl-lock',
    });
    await kube.replace({ ...lease!, spec: { ...lease!.spec, holderIdentity: 'alice@elsewhere:1' } });
    await expect(acquireLease(kube, { log, command: 'test' })).rejects.toMatchObject({
      code: 'LOCK_HELD',
      exitCode: 3,
    });
    const broken = await acquireLease(kube, { log, command: 'test', breakLock: true });
    expect(log.lines.some((l) => l.includes('taking over the lock held by alice@elsewhere:1'))).toBe(true);
    await broken.release();
    await held.release();
  });
});
