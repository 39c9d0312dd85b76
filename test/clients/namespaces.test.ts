/**
 * Waiting out a terminating namespace, against a fake apiserver: the wait ends when the namespace is gone
 * (then platctl creates it), and on timeout the error names what the namespace still holds.
 * test/istio/namespaces.lab.test.ts proves the same against the lab's namespace controller.
 */
import { describe, expect, it } from 'vitest';
import { createNamespace, settleNamespace } from '../../src/clients/namespaces.js';
import { createFakeKube } from '../helpers/fake-kube.js';

const ref = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });
const terminating = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, deletionTimestamp: '2026-01-01T00:00:00Z' },
  status: {
    phase: 'Terminating',
    conditions: [
      { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', message: 'All resources successfully discovered' },
      {
        type: 'NamespaceFinalizersRemaining',
        status: 'True',
        message: 'Some content has finalizers: example.com/x in 1',
      },
    ],
  },
});

describe('settleNamespace', () => {
  it('returns a live namespace at once and undefined for a missing one, without waiting', async () => {
    const kube = createFakeKube();
    kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'here' } });
    const told: string[] = [];
    expect((await settleNamespace(kube, 'here', { waiting: (m) => told.push(m) }))?.metadata.name).toBe('here');
    expect(await settleNamespace(kube, 'absent', { waiting: (m) => told.push(m) })).toBeUndefined();
    expect(told).toEqual([]);
  });

  it('times out naming the namespace and only the conditions that hold it', async () => {
    const kube = createFakeKube();
    kube.seed(terminating('stuck'));
    const told: string[] = [];
    const err = await settleNamespace(kube, 'stuck', {
      timeoutMs: 300,
      pollMs: 50,
      waiting: (m) => told.push(m),
    }).catch((e: unknown) => e as { code: string; message: string; hint?: string });
    expect(err).toMatchObject({ code: 'KUBE_TIMEOUT' });
    expect(err?.message).toContain('namespace stuck is still being deleted');
    expect(err?.message).toContain('NamespaceFinalizersRemaining: Some content has finalizers');
    expect(err?.message).not.toContain('successfully discovered');
    expect(err?.hint).toContain('kubectl get namespace stuck -o yaml');
    expect(told).toEqual(['namespace stuck is being deleted: waiting until it is gone']);
  });

  it('creates the namespace once the old one is gone', async () => {
    const kube = createFakeKube();
    kube.seed(terminating('cycled'));
    // Plays the namespace controller: the old namespace disappears a moment later.
    setTimeout(() => void kube.delete(ref('cycled')), 200);
    expect(await createNamespace(kube, 'cycled', { labels: { a: 'b' } }, { pollMs: 25 })).toBe(true);
    const now = kube.peek(ref('cycled'));
    expect(now?.metadata.deletionTimestamp).toBeUndefined();
    expect(now?.metadata.labels).toEqual({ a: 'b' });
  });

  it('counts a namespace someone else created meanwhile as existing', async () => {
    const kube = createFakeKube();
    const create = kube.create.bind(kube);
    kube.create = async (obj) => {
      await create(obj); // someone else got there first
      return create(obj);
    };
    expect(await createNamespace(kube, 'raced')).toBe(false);
    expect(kube.peek(ref('raced'))).toBeDefined();
  });
});
