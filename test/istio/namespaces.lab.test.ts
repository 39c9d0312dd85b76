/**
 * Namespace labelling against the lab's apiserver: istio.io/rev set, istio-injection removed (never both),
 * only platctl's own labels and namespaces removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, type KubeClient } from '../../src/clients/kube.js';
import {
  deleteNamespacesIfOurs,
  ensureNamespace,
  labelNamespaces,
  namespaceLabelChanges,
  namespacesPointingAt,
  unlabelNamespaces,
} from '../../src/istio/namespaces.js';
import { lab } from '../lab/env.js';

const env = lab();
const id = process.pid;
const legacy = `legacy-${id}`;
const other = `other-${id}`;
const created = `created-${id}`;
const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });
let kube: KubeClient;

beforeAll(async () => {
  kube = await connectKube({ kubeconfig: env.kubeconfig });
  await kube.create({ ...ns(legacy), metadata: { name: legacy, labels: { 'istio-injection': 'enabled' } } });
  await kube.create({ ...ns(other), metadata: { name: other, labels: { 'istio.io/rev': 'someone-elses' } } });
});
afterAll(async () => {
  for (const n of [legacy, other, created]) await kube.delete(ns(n));
});

describe('namespace labels', () => {
  it('lists the changes, then labels (creating the missing one) and drops istio-injection', async () => {
    const names = [legacy, created];
    expect(await namespaceLabelChanges(kube, names, 'prod-stable')).toEqual([
      `~ namespace ${legacy} label istio.io/rev=prod-stable`,
      `- namespace ${legacy} label istio-injection`,
      `+ namespace ${created} (istio.io/rev=prod-stable)`,
    ]);
    expect(await labelNamespaces(kube, names, 'prod-stable')).toEqual(names);
    const l = await kube.get(ns(legacy));
    expect(l?.metadata.labels?.['istio.io/rev']).toBe('prod-stable');
    expect(l?.metadata.labels?.['istio-injection']).toBeUndefined();
    expect((await kube.get(ns(created)))?.metadata.annotations?.['platctl.io/created-by']).toBe('istio');
    expect(await namespaceLabelChanges(kube, names, 'prod-stable')).toEqual([]);
    expect(await labelNamespaces(kube, names, 'prod-stable')).toEqual([]);
  });

  it('finds the namespaces pointing at a revision or its tags', async () => {
    const found = await namespacesPointingAt(kube, ['1-30-3', 'prod-stable']);
    expect(found).toEqual(expect.arrayContaining([legacy, created]));
    expect(found).not.toContain(other);
    expect(await namespacesPointingAt(kube, [])).toEqual([]);
  });

  it('removes only the labels platctl set, and deletes only namespaces the step created', async () => {
    expect(await unlabelNamespaces(kube, [legacy, other], ['prod-stable', '1-30-3'])).toEqual([legacy]);
    expect((await kube.get(ns(other)))?.metadata.labels?.['istio.io/rev']).toBe('someone-elses');
    expect(await deleteNamespacesIfOurs(kube, [other, created], 'vault')).toEqual([]);
    expect(await deleteNamespacesIfOurs(kube, [other, created], 'istio')).toEqual([created]);
    // Waited for: gone when the call returns.
    expect(await kube.get(ns(created))).toBeUndefined();
    expect(await kube.get(ns(other))).toBeDefined();
    expect(await ensureNamespace(kube, legacy, 'istio')).toBe(false);
  });

  it('waits out a namespace that is being deleted, then creates it afresh; gives up naming it', async () => {
    const term = `term-${id}`;
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', namespace: term, name: 'hold' };
    await kube.create({ ...ns(term), metadata: { name: term } });
    // A finalizer on something inside keeps the namespace Terminating until this test lets it go.
    await kube.create({ ...cm, metadata: { name: 'hold', namespace: term, finalizers: ['platctl.test/hold'] } });
    await kube.delete(ns(term));
    const told: string[] = [];
    const wait = { pollMs: 100, waiting: (m: string) => told.push(m) };
    try {
      expect((await kube.get(ns(term)))?.metadata.deletionTimestamp).toBeDefined();
      await expect(ensureNamespace(kube, term, 'istio', {}, { ...wait, timeoutMs: 1000 })).rejects.toThrow(
        `namespace ${term} is still being deleted after 1s`,
      );
      expect(told).toEqual([`namespace ${term} is being deleted: waiting until it is gone`]);
      const created = ensureNamespace(kube, term, 'istio', {}, { ...wait, timeoutMs: 120_000 });
      // Let go of the finalizer: the lab's namespace controller then finishes the deletion.
      await kube.patch(cm, { metadata: { finalizers: null } });
      expect(await created).toBe(true);
      const fresh = await kube.get(ns(term));
      expect(fresh?.metadata.deletionTimestamp).toBeUndefined();
      expect(fresh?.metadata.annotations?.['platctl.io/created-by']).toBe('istio');
    } finally {
      await kube.patch(cm, { metadata: { finalizers: null } }).catch(() => undefined);
      await kube.delete(ns(term));
    }
  });
});
