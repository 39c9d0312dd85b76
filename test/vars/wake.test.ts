/**
 * Waking Flux after the variables changed: only the Kustomizations in flux-system that substitute from
 * platform-vars (and are not suspended) are asked to reconcile; the wait ends when each has handled the
 * request; not Ready afterwards, or no answer within flux.timeout, is a warning naming them, not a failure.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { wakeReaders } from '../../src/vars/wake.js';
import { createFakeKube, type FakeKube, fakeFluxContext } from '../helpers/fake-kube.js';

const KS = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' };
const reads = { postBuild: { substituteFrom: [{ kind: 'ConfigMap', name: 'platform-vars' }] } };
let kube: FakeKube;

const context = (timeout = '2s') => fakeFluxContext(kube, timeout);

/** Plays kustomize-controller for the named Kustomizations: handles a request at once, Ready as given. */
function controller(ready: Record<string, 'True' | 'False'>) {
  kube.beforeWrite = (verb, ref) => {
    const want = ready[ref.name];
    if (verb !== 'patch' || ref.kind !== 'Kustomization' || !want) return;
    setTimeout(() => {
      const ks = kube.peek(ref)!;
      const at = ks.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
      const reason = want === 'True' ? 'ReconciliationSucceeded' : 'BuildFailed';
      kube.seed({
        ...ks,
        status: { lastHandledReconcileAt: at, conditions: [{ type: 'Ready', status: want, reason, message: 'why' }] },
      });
    }, 5);
  };
}

const seed = (name: string, spec: Record<string, unknown>) =>
  kube.seed({ ...KS, metadata: { name, namespace: 'flux-system' }, spec } as KubeObject);
const requested = (name: string) =>
  kube.peek({ ...KS, namespace: 'flux-system', name })?.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];

beforeEach(() => {
  kube = createFakeKube();
  kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flux-system' } });
});

describe('waking the readers of platform-vars', () => {
  it('asks only those that read the variables and waits until they have reconciled', async () => {
    seed('flux-system', reads);
    seed('tenant-a', reads);
    seed('unrelated', {});
    seed('paused', { ...reads, suspend: true });
    controller({ 'flux-system': 'True', 'tenant-a': 'True' });
    const { ctx, log } = context();
    expect(await wakeReaders(ctx, kube, { pollMs: 10 })).toEqual(['flux-system', 'tenant-a']);
    expect(requested('unrelated')).toBeUndefined();
    expect(requested('paused')).toBeUndefined();
    expect(log.lines.join('\n')).toContain('Flux applied the new variables (Kustomization flux-system, tenant-a)');
  });

  it('warns, naming them, about readers that reconciled but are not Ready', async () => {
    seed('flux-system', reads);
    seed('tenant-b', reads);
    controller({ 'flux-system': 'True', 'tenant-b': 'False' });
    const { ctx, log } = context();
    await wakeReaders(ctx, kube, { pollMs: 10 });
    expect(log.lines.join('\n')).toMatch(/not Ready: Kustomization tenant-b: Ready=False \(BuildFailed: why\)/);
  });

  it('gives up with a warning when Flux does not answer within flux.timeout', async () => {
    seed('flux-system', reads);
    const { ctx, log } = context('1s');
    const started = Date.now();
    await wakeReaders(ctx, kube, { pollMs: 50 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(log.lines.join('\n')).toMatch(/has not handled the request within 1s \(Kustomization flux-system\)/);
  });

  it('does nothing before Flux is installed', async () => {
    const { ctx } = context();
    expect(await wakeReaders(ctx, kube)).toEqual([]);
    expect(kube.calls.filter((c) => c.verb !== 'list')).toEqual([]);
  });
});
