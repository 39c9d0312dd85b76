/** `--apply`'s plan and its execution (unit: a fake API server that records every call in order). */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { applyPhases, planLive, runPlan } from '../../src/tenants/live.js';
import { allObjects, tenantManifests } from '../../src/tenants/manifests.js';
import { createFakeKube } from '../helpers/fake-kube.js';
import { tenantSpec } from '../helpers/tenants.js';

const env = { revisionTag: 'prod-stable', issuer: { kind: 'ClusterIssuer' as const, name: 'letsencrypt' } };
const objectsOf = (...names: string[]) =>
  names.flatMap((n) => allObjects(tenantManifests(tenantSpec(n, { namespaces: [n, `${n}-jobs`] }), env)));
const kindOf = (key: string) => key.split('|')[1];

describe('applyPhases', () => {
  it('namespaces, then the GitRepositories, then the rest, the Kustomizations last; nothing lost or doubled', () => {
    const objects = objectsOf('team-a', 'team-b');
    const phases = applyPhases(objects);
    expect(phases.map((p) => [...new Set(p.map((o) => o.kind))])).toEqual([
      ['Namespace'],
      ['GitRepository'],
      ['ServiceAccount', 'RoleBinding', 'ResourceQuota', 'LimitRange', 'NetworkPolicy'],
      ['Kustomization'],
    ]);
    expect(phases.flat()).toHaveLength(objects.length);
    expect(new Set(phases.flat())).toEqual(new Set(objects));
    // Within a phase, the tenants' own order stays.
    expect(phases[1]?.map((o) => o.metadata.namespace)).toEqual(['team-a', 'team-b']);
  });

  it('leaves out phases with nothing to do', () => {
    const only = objectsOf('team-a').filter((o) => o.kind === 'Kustomization' || o.kind === 'RoleBinding');
    expect(applyPhases(only).map((p) => p[0]?.kind)).toEqual(['RoleBinding', 'Kustomization']);
    expect(applyPhases([])).toEqual([]);
  });
});

describe('runPlan', () => {
  it('applies phase by phase: no GitRepository before every namespace, no Kustomization before every RoleBinding', async () => {
    const kube = createFakeKube();
    const desired = objectsOf('team-a', 'team-b', 'team-c');
    const plan = await planLive(kube, ['team-a', 'team-b', 'team-c'], desired);
    expect(plan.apply).toHaveLength(desired.length);
    const progress: string[] = [];
    await runPlan(kube, plan, { concurrency: 4, progress: (m) => progress.push(m) });
    const applies = kube.calls.filter((c) => c.verb === 'apply').map((c) => kindOf(c.key));
    expect(applies).toHaveLength(desired.length);
    const last = (k: string) => applies.lastIndexOf(k);
    const first = (k: string) => applies.indexOf(k);
    expect(last('Namespace')).toBeLessThan(first('GitRepository'));
    expect(last('GitRepository')).toBeLessThan(first('ServiceAccount'));
    expect(last('RoleBinding')).toBeLessThan(first('Kustomization'));
    expect(last('NetworkPolicy')).toBeLessThan(first('Kustomization'));
    expect(progress.at(-1)).toBe(`applied ${desired.length}/${desired.length} tenant objects`);
    // Everything is there.
    expect(desired.every((o) => kube.peek({ ...o, name: o.metadata.name, namespace: o.metadata.namespace }))).toBe(
      true,
    );
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const kube = createFakeKube();
    let inFlight = 0;
    let most = 0;
    const apply = kube.apply.bind(kube);
    kube.apply = async (obj: KubeObject, o) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      try {
        return await apply(obj, o);
      } finally {
        inFlight--;
      }
    };
    const desired = objectsOf('team-a', 'team-b', 'team-c', 'team-d');
    await runPlan(kube, { apply: desired, prune: [], unchanged: 0, unserved: [] }, { concurrency: 3 });
    expect(most).toBe(3);
  });
});
