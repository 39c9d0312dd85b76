/**
 * CRD deletion against the lab's real kube-apiserver (1.34): a CRD nobody has read since it was made has no watch
 * cache, so its finalizer's list is refused ("storage is (re)initializing" in the apiserver log) unless platctl
 * lists the kind first; and the touch platctl gives a stalled finalizer is accepted on a terminating CRD without
 * changing how it ends. The stall itself (a refused list racing the finalizer's own status write) is a timing
 * accident no test can call up; test/clients/crds.test.ts plays it behind the KubeClient interface.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CRD_API_VERSION,
  deleteCrd,
  FINALIZE_RETRY_ANNOTATION,
  finalizerStalled,
  nudgeCrd,
} from '../../src/clients/crds.js';
import { connectKube, type KubeObject } from '../../src/clients/kube.js';
import { deleteAndWait, settle } from '../../src/clients/namespaces.js';
import { waitForCrds } from '../../src/flux/install.js';
import { lab } from '../lab/env.js';

const env = lab();
const kube = await connectKube({ kubeconfig: env.kubeconfig });
const group = `crds-${process.pid}.lab.test`;
const made: string[] = [];

const crd = (plural: string): KubeObject => ({
  apiVersion: CRD_API_VERSION,
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: plural.slice(0, -1), kind: plural[0]?.toUpperCase() + plural.slice(1, -1) },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
});
const refOfCrd = (c: KubeObject) => ({ apiVersion: CRD_API_VERSION, kind: c.kind, name: c.metadata.name });

/** Creates the CRD and waits for Established, reading nothing of its kind (so it has no watch cache yet). */
async function fresh(plural: string): Promise<KubeObject> {
  const c = crd(plural);
  await kube.create(c);
  made.push(c.metadata.name);
  await waitForCrds(kube, [c]);
  return c;
}

/** The apiserver log's lines saying the CRD finalizer's list of this CRD's kind was refused. */
const refused = (name: string) =>
  readFileSync(join(env.logsDir, 'kube-apiserver.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`${name} failed with: storage is (re)initializing`));

afterAll(async () => {
  for (const name of made)
    await deleteAndWait(kube, { apiVersion: CRD_API_VERSION, kind: 'CustomResourceDefinition', name });
});

describe('deleting a CRD on the lab apiserver', () => {
  it('a plain delete of a fresh CRD has its finalizer refused; platctl warms the cache and it is not', async () => {
    const plain = await fresh('plains');
    await kube.delete(refOfCrd(plain));
    // The refusal is logged within moments of the delete; it is what makes the finalizer back off.
    for (let i = 0; i < 40 && refused(plain.metadata.name).length === 0; i++) await sleep(250);
    expect(refused(plain.metadata.name)).not.toEqual([]);
    expect(await settle(kube, refOfCrd(plain), { timeoutMs: 60_000 })).toBeUndefined();

    const warmed = await fresh('warmeds');
    expect(await deleteAndWait(kube, refOfCrd(warmed), { timeoutMs: 60_000 })).toBe(true);
    expect(await kube.get(refOfCrd(warmed))).toBeUndefined();
    await sleep(1_000);
    expect(refused(warmed.metadata.name)).toEqual([]);
  }, 150_000);

  it('deleted plainly, a finalizer that stalls is queued again, so every CRD goes long before the resync', async () => {
    // As `kubectl create -f` / `kubectl delete -f` of a dozen CRDs do: one request after the other. About one CRD
    // in thirty stalled this way here on an idle lab, until the resync up to five minutes later.
    const batch: KubeObject[] = [];
    for (let round = 0; round < 4; round++) {
      const dozen: KubeObject[] = [];
      for (let i = 0; i < 12; i++) dozen.push(await kube.create(crd(`r${round}n${i}s`)));
      made.push(...dozen.map((c) => c.metadata.name));
      await waitForCrds(kube, dozen);
      for (const c of dozen) await kube.delete(refOfCrd(c));
      batch.push(...dozen);
    }
    await sleep(3_000);
    const left = (await Promise.all(batch.map((c) => kube.get(refOfCrd(c))))).filter((c) => c !== undefined);
    console.log(`${left.filter(finalizerStalled).length} of ${batch.length} stalled 3 s after the delete`);
    // Bounded well below the resync: a stalled finalizer left alone would fail this.
    await Promise.all(batch.map((c) => settle(kube, refOfCrd(c), { timeoutMs: 45_000 })));
  }, 150_000);

  it('touching a terminating CRD is accepted, and it still goes once its objects are gone', async () => {
    const c = await fresh('holds');
    const kind = { apiVersion: `${group}/v1`, kind: 'Hold' };
    const obj = { ...kind, metadata: { name: 'x', namespace: 'default', finalizers: ['platctl.test/hold'] } };
    await kube.create(obj);
    expect(await deleteCrd(kube, c)).toBe(true);
    // Its finalizer now waits for the object, whose own finalizer nobody removes until the test does.
    await nudgeCrd(kube, c);
    const touched = await kube.get(refOfCrd(c));
    expect(touched?.metadata.deletionTimestamp).toBeDefined();
    expect(touched?.metadata.annotations?.[FINALIZE_RETRY_ANNOTATION]).toBeDefined();
    await kube.patch({ ...kind, name: 'x', namespace: 'default' }, { metadata: { finalizers: null } });
    expect(await settle(kube, refOfCrd(c), { timeoutMs: 90_000 })).toBeUndefined();
  }, 150_000);
});
