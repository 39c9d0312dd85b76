/**
 * Deleting CRDs so they go, against a fake apiserver: the kind is listed (its watch cache warmed) before the
 * delete, a CRD whose finalizer stalled is listed again and touched so the finalizer runs again, and a CRD that
 * stays names its Terminating condition. test/clients/crds.lab.test.ts shows the same against the lab's apiserver.
 */
import { describe, expect, it } from 'vitest';
import { crdKind, FINALIZE_RETRY_ANNOTATION, warmCrd } from '../../src/clients/crds.js';
import { type KubeObject, kubeError } from '../../src/clients/kube.js';
import { deleteAndWait, settle } from '../../src/clients/namespaces.js';
import { createFakeKube } from '../helpers/fake-kube.js';

const ref = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'widgets.lab.test' };
const crd = (terminating?: { reason: string; message: string }): KubeObject => ({
  apiVersion: ref.apiVersion,
  kind: ref.kind,
  metadata: { name: ref.name, ...(terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: {
    group: 'lab.test',
    names: { kind: 'Widget', plural: 'widgets' },
    versions: [
      { name: 'v1beta1', served: true, storage: false },
      { name: 'v1', served: true, storage: true },
    ],
  },
  status: { conditions: terminating ? [{ type: 'Terminating', status: 'True', ...terminating }] : [] },
});
const stalled = { reason: 'InstanceDeletionFailed', message: 'could not list instances: storage is (re)initializing' };
const widgets = 'lab.test/v1|Widget||*';
const crdKey = `${ref.apiVersion}|${ref.kind}||${ref.name}`;

describe('crdKind', () => {
  it('is the storage version, not the first one listed; nothing without a spec', () => {
    expect(crdKind(crd())).toEqual({ apiVersion: 'lab.test/v1', kind: 'Widget' });
    expect(crdKind({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: 'x' } })).toBeUndefined();
  });
});

describe('deleting a CRD', () => {
  it('lists its kind in every namespace before the delete, then waits until it is gone', async () => {
    const kube = createFakeKube();
    kube.seed(crd());
    expect(await deleteAndWait(kube, ref, { pollMs: 10 })).toBe(true);
    const verbs = kube.calls.map((c) => `${c.verb} ${c.key}`);
    expect(verbs.indexOf(`list ${widgets}`)).toBeGreaterThan(-1);
    expect(verbs.indexOf(`list ${widgets}`)).toBeLessThan(verbs.indexOf(`delete ${crdKey}`));
    expect(kube.peek(ref)).toBeUndefined();
  });

  it('warming is best effort: a list it may not make does not stop the delete', async () => {
    const kube = createFakeKube();
    kube.seed(crd());
    kube.list = async () => {
      throw kubeError(403, 'list Widget', '{"message":"widgets.lab.test is forbidden"}');
    };
    expect(await warmCrd(kube, crd())).toBe(false);
    expect(await deleteAndWait(kube, ref, { pollMs: 10 })).toBe(true);
    expect(kube.peek(ref)).toBeUndefined();
  });
});

describe('waiting out a terminating CRD', () => {
  it('queues a stalled finalizer again: lists the kind, touches the annotation, and the CRD goes', async () => {
    const kube = createFakeKube();
    kube.seed(crd(stalled));
    // Plays the API server: only an update the finalizer does not filter out queues it again.
    kube.beforeWrite = (verb, r) => {
      if (verb === 'patch' && r.name === ref.name) setTimeout(() => void kube.delete(ref), 20);
    };
    expect(await settle(kube, ref, { pollMs: 10, timeoutMs: 3_000 })).toBeUndefined();
    const verbs = kube.calls.map((c) => `${c.verb} ${c.key}`);
    expect(verbs.indexOf(`list ${widgets}`)).toBeLessThan(verbs.indexOf(`patch ${crdKey}`));
    expect(verbs.filter((v) => v === `patch ${crdKey}`)).toHaveLength(1);
  });

  it('touches a stalled CRD at most every few seconds, and times out naming its condition', async () => {
    const kube = createFakeKube();
    kube.seed(crd(stalled));
    const err = await settle(kube, ref, { pollMs: 10, timeoutMs: 300 }).catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'KUBE_TIMEOUT' });
    expect(err?.message).toContain(`CustomResourceDefinition ${ref.name} is still being deleted`);
    expect(err?.message).toContain('Terminating: could not list instances: storage is (re)initializing');
    expect(kube.calls.filter((c) => c.verb === 'patch')).toHaveLength(1);
    expect(kube.peek(ref)?.metadata.annotations?.[FINALIZE_RETRY_ANNOTATION]).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('a touch the API server refuses does not end the wait: it goes on, then names the CRD', async () => {
    const kube = createFakeKube();
    kube.seed(crd(stalled));
    kube.beforeWrite = () => {
      throw kubeError(403, `patch ${ref.name}`, '{"message":"forbidden"}');
    };
    const err = await settle(kube, ref, { pollMs: 10, timeoutMs: 200 }).catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'KUBE_TIMEOUT' });
    expect(err?.message).toContain('Terminating: could not list instances');
  });

  it('leaves a finalizer that is still working alone (no writes)', async () => {
    const kube = createFakeKube();
    const working = { reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' };
    kube.seed(crd(working));
    const err = await settle(kube, ref, { pollMs: 10, timeoutMs: 200 }).catch((e: unknown) => e as Error);
    expect(err?.message).toContain('Terminating: CustomResource deletion is in progress');
    expect(kube.calls.filter((c) => c.verb !== 'get')).toEqual([]);
  });
});
