/**
 * The tenant commands and Flux (src/tenants/flux-sync.ts), against an in-memory API server with a played Flux:
 * nothing is asked of a cluster without Flux; before remove-tenant --apply deletes anything, platctl waits until
 * Flux has applied the removal commit and pruned flux-system/tenant-<t>; a Flux that fails or never gets there
 * is a warning naming the revision, and the removal goes on.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { syncRefs } from '../../src/flux/wait.js';
import { askFluxToFetch, waitForFluxRemoval } from '../../src/tenants/flux-sync.js';
import { createFakeKube, type FakeKube, fakeFluxContext } from '../helpers/fake-kube.js';

const REVISION = 'main@sha1:0123456789abcdef0123456789abcdef01234567';
const [GIT, ROOT] = syncRefs();
const INDEX = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace: 'flux-system' };
let kube: FakeKube;

const context = (timeout = '2s') => fakeFluxContext(kube, timeout);

/** The root sync's two objects, at an older revision, plus the tenant's flux-system/tenant-<t>. */
function seedFlux() {
  for (const ref of [GIT!, ROOT!]) kube.seed({ ...ref, metadata: { name: ref.name, namespace: ref.namespace } });
  kube.seed({ ...INDEX, metadata: { name: 'tenant-team-a', namespace: 'flux-system' } } as KubeObject);
}

/** Plays Flux handling the reconcile request: applies `revision` with Ready as given, then prunes tenant-<t>. */
function flux(ready: 'True' | 'False', order: string[]) {
  kube.beforeWrite = (verb, ref) => {
    if (verb !== 'patch' || ref.name !== 'flux-system') return;
    setTimeout(() => {
      const obj = kube.peek(ref)!;
      const at = obj.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
      const reason = ready === 'True' ? 'ReconciliationSucceeded' : 'BuildFailed';
      const observedGeneration = (obj.metadata as { generation?: number }).generation ?? 0;
      const conditions = [{ type: 'Ready', status: ready, reason, message: 'why', observedGeneration }];
      const applied = ready === 'True' ? REVISION : undefined;
      kube.seed({
        ...obj,
        status: {
          lastHandledReconcileAt: at,
          conditions,
          artifact: { revision: REVISION },
          lastAppliedRevision: applied,
        },
      } as KubeObject);
      if (ref.kind === 'Kustomization' && ready === 'True') {
        order.push('flux applied the removal');
        setTimeout(() => {
          void kube.delete({ ...INDEX, name: 'tenant-team-a' });
          order.push('flux pruned tenant-team-a');
        }, 50);
      }
    }, 20);
  };
}

beforeEach(() => {
  kube = createFakeKube();
  kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flux-system' } });
});

describe('the tenant commands and Flux', () => {
  it('asks nothing of a cluster without Flux', async () => {
    const { ctx } = context();
    expect(await askFluxToFetch(ctx, 'abc')).toBeUndefined();
    expect(kube.calls.filter((c) => c.verb === 'patch')).toEqual([]);
  });

  it('waits until Flux applied the removal commit and pruned flux-system/tenant-<t>', async () => {
    seedFlux();
    const order: string[] = [];
    flux('True', order);
    const { ctx, log } = context();
    const requested = await askFluxToFetch(ctx, 'abc');
    expect(requested).toBeDefined();
    await waitForFluxRemoval(ctx, 'team-a', REVISION, requested!);
    order.push('platctl goes on');
    expect(order).toEqual(['flux applied the removal', 'flux pruned tenant-team-a', 'platctl goes on']);
    expect(log.lines.join('\n')).not.toMatch(/anyway/);
  });

  it('a Flux that fails the sync is a warning naming the revision, and the removal goes on', async () => {
    seedFlux();
    flux('False', []);
    const { ctx, log } = context();
    const requested = await askFluxToFetch(ctx, 'abc');
    await waitForFluxRemoval(ctx, 'team-a', REVISION, requested!);
    const warning = log.lines.find((l) => /anyway/.test(l));
    expect(warning).toContain(REVISION);
    expect(warning).toContain('BuildFailed');
  });

  it('a Flux that never answers within flux.timeout is a warning too', async () => {
    seedFlux();
    const { ctx, log } = context('1s');
    const requested = await askFluxToFetch(ctx, 'abc');
    const started = Date.now();
    await waitForFluxRemoval(ctx, 'team-a', REVISION, requested!);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(log.lines.find((l) => /anyway/.test(l))).toMatch(/within 1s/);
  });
});
