/**
 * The isolation proof (lab, real RBAC): two tenants applied to the lab apiserver, then SubjectAccessReviews
 * for each tenant's ServiceAccounts, and actual requests made as one of them by impersonation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { addTenants, removeTenant } from '../../src/tenants/tenants.js';
import { fluxContext, labCluster, labKube, uniqueName, useOperatorCredentials } from '../helpers/flux-context.js';
import { canI, ensureTenantPrereqs, impersonate, memoryStore, saUser, tenantSpec } from '../helpers/tenants.js';
import { lab } from '../lab/env.js';

const env = lab();
const id = Math.random().toString(36).slice(2, 7);
const cluster = labCluster(env, uniqueName('isolation'));
const A = tenantSpec(`ia-${id}`, { namespaces: [`ia-${id}`, `ia-${id}-jobs`] });
const B = tenantSpec(`ib-${id}`, { role: 'edit' });
const store = memoryStore(cluster.name);
const saved = process.env.GIT_SSH_COMMAND;
let kube: KubeClient;
let cleanup: () => Promise<void>;
const ctx = () => fluxContext(cluster, { kube }).ctx;

beforeAll(async () => {
  useOperatorCredentials(env);
  kube = await labKube(env);
  cleanup = await ensureTenantPrereqs(kube, 'platform-gateway');
  await addTenants(ctx(), [A, B], { store, state: store.current, apply: true });
});

afterAll(async () => {
  for (const t of [A, B]) await removeTenant(ctx(), t.name, { store, state: store.current, apply: true });
  await cleanup();
  if (saved === undefined) delete process.env.GIT_SSH_COMMAND;
  else process.env.GIT_SSH_COMMAND = saved;
});

describe('tenant isolation (lab)', () => {
  it('isolation (SubjectAccessReviews, real RBAC): each tenant acts in its own namespaces and nowhere else', async () => {
    for (const [t, other] of [
      [A, B],
      [B, A],
    ] as const) {
      for (const home of t.namespaces) {
        const who = saUser(home, t.name);
        const can = (attrs: Parameters<typeof canI>[2]) => canI(kube, who, attrs);
        for (const ns of t.namespaces) {
          expect(
            await can({ verb: 'create', group: 'apps', resource: 'deployments', namespace: ns }),
            `${home} → ${ns}`,
          ).toBe(true);
        }
        for (const ns of [
          ...other.namespaces,
          'flux-system',
          'istio-ingress',
          'platctl-system',
          'kube-system',
          'default',
        ]) {
          expect(
            await can({ verb: 'create', group: 'apps', resource: 'deployments', namespace: ns }),
            `${home} → ${ns}`,
          ).toBe(false);
          expect(await can({ verb: 'get', resource: 'secrets', namespace: ns }), `secrets ${ns}`).toBe(false);
        }
        expect(await can({ verb: 'create', resource: 'namespaces' })).toBe(false);
        expect(await can({ verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' })).toBe(false);
        expect(await can({ verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' })).toBe(
          false,
        );
        const bind = {
          verb: 'bind',
          group: 'rbac.authorization.k8s.io',
          resource: 'clusterroles',
          name: 'cluster-admin',
        };
        expect(await can({ ...bind, namespace: home })).toBe(false);
        expect(await can({ ...bind, verb: 'escalate', namespace: home })).toBe(false);
      }
    }
  });

  it('isolation (actual requests as the tenant, by impersonation): no way to cluster-admin', async () => {
    const home = A.namespaces[0]!;
    const asA = impersonate(env, saUser(home, A.name));
    const deployment = (namespace: string): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'probe', namespace },
      spec: {
        selector: { matchLabels: { app: 'probe' } },
        template: { metadata: { labels: { app: 'probe' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await asA.create(deployment(home));
    expect(await asA.delete({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: home, name: 'probe' })).toBe(true);
    await expect(asA.create(deployment(B.name))).rejects.toThrow(/403.*forbidden/i);
    const toClusterAdmin = (kind: 'RoleBinding' | 'ClusterRoleBinding'): KubeObject => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind,
      metadata: { name: 'escalate', ...(kind === 'RoleBinding' ? { namespace: home } : {}) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: A.name, namespace: home }],
    });
    // admin may create RoleBindings, but RBAC refuses one granting more than the creator holds.
    await expect(asA.create(toClusterAdmin('RoleBinding'))).rejects.toThrow(/403.*(escalat|not currently held)/i);
    await expect(asA.create(toClusterAdmin('ClusterRoleBinding'))).rejects.toThrow(/403/);
    await expect(
      asA.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `sneaky-${id}` } }),
    ).rejects.toThrow(/403/);
  });
});
