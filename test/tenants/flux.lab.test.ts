/**
 * Tenants under the REAL Flux controllers (the lab runs them: test/lab/flux-host.ts), GitOps first (one with --apply):
 * add-tenant pushes the tenant to the fleet repo and gives it its own read-only deploy key in its own
 * namespace; the root sync applies the tenant, source-controller clones the tenant's repository with THAT key,
 * and kustomize-controller applies it impersonating the tenant's ServiceAccount, which is refused anywhere else.
 * PLAYED: the git host's admin adds each deploy key read-only (test/lab/git-host-admin.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject, ObjectRef } from '../../src/clients/kube.js';
import { addTenants, removeTenant } from '../../src/tenants/tenants.js';
import { createFluxStep } from '../../steps/flux.js';
import {
  countingKube,
  fleetHead,
  fluxContext,
  fluxLabSession,
  labCluster,
  labKube,
  pushAsOperator,
  seedDeployKey,
  seedPlatformVars,
  uniqueName,
} from '../helpers/flux-context.js';
import { memoryStore, tenantSpec } from '../helpers/tenants.js';
import { lab } from '../lab/env.js';
import { holdFluxControllers, releaseFluxControllers } from '../lab/flux-host.js';
import { playGitHostAdmin, storedDeployKeys } from '../lab/git-host-admin.js';
import { revokeKey } from '../lab/git-ssh.js';

const env = lab();
const kube = await labKube(env);
const id = Math.random().toString(36).slice(2, 7);
const cluster = labCluster(env, uniqueName('tflux'));
const step = createFluxStep({ pollMs: 200 });
const session = fluxLabSession(env, 'platctl-tenants-flux-');
// The tenant's "own repository" is a folder of the lab's git server, reached over ssh with the tenant's key.
const T = tenantSpec(`tf-${id}`, { repo: env.fleetUrl, path: `./teams/tf-${id}` });
// A second team added with --apply, from the same repository folder.
const U = tenantSpec(`tg-${id}`, { repo: env.fleetUrl, path: `./teams/tf-${id}` });
const store = memoryStore(cluster.name);
const io = () => ({ store, state: store.current });
let stopAdmin: () => void = () => {};
let keys: string[] = [];

type Flux = KubeObject & {
  spec?: { secretRef?: { name: string } };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};
const tenantRef = (kind: 'GitRepository' | 'Kustomization', name = T.name, namespace = T.name): ObjectRef => ({
  apiVersion: kind === 'GitRepository' ? 'source.toolkit.fluxcd.io/v1' : 'kustomize.toolkit.fluxcd.io/v1',
  kind,
  namespace,
  name,
});

/** Polls a Flux object until `done` holds for its Ready condition; fails showing its conditions. */
async function until(ref: ObjectRef, done: (ready?: { status: string; message?: string }) => boolean, ms = 120_000) {
  const deadline = Date.now() + ms;
  let obj: Flux | undefined;
  for (;;) {
    obj = await kube.get<Flux>(ref);
    const ready = obj?.status?.conditions?.find((c) => c.type === 'Ready');
    if (done(ready)) return obj!;
    if (Date.now() > deadline)
      throw new Error(
        `${ref.kind} ${ref.namespace}/${ref.name}: ${JSON.stringify(obj?.status?.conditions ?? 'absent')}`,
      );
    await sleep(500);
  }
}
const isReady = (r?: { status: string }) => r?.status === 'True';

beforeAll(async () => {
  await session.enter(kube);
  await holdFluxControllers(['helm-controller']);
  keys.push(await seedDeployKey(env, kube, cluster));
  await seedPlatformVars(kube, cluster);
  await step.apply(fluxContext(cluster, { kube }).ctx);
  stopAdmin = playGitHostAdmin(kube);
  // The team's repository content: one ConfigMap.
  await pushAsOperator(
    env,
    {
      [`teams/${T.name}/app.yaml`]:
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  from: tenant\n',
    },
    `team ${T.name}: app`,
  );
});

afterAll(async () => {
  try {
    keys = [...keys, ...(await storedDeployKeys(kube)).map((k) => k.publicKey)];
    for (const t of [T, U]) await removeTenant(fluxContext(cluster, { kube }).ctx, t.name, { ...io(), apply: true });
    await step.destroy(fluxContext(cluster, { kube }).ctx);
  } finally {
    stopAdmin();
    for (const k of new Set(keys)) await revokeKey(k);
    await releaseFluxControllers();
    await session.leave();
  }
});

describe('tenants under the real Flux controllers', () => {
  /** The tenant repo's ConfigMap, applied by kustomize-controller as the tenant: its sync really happened. */
  const expectTenantSynced = async (ns: string) => {
    const cm = await kube.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      name: 'hello',
    });
    expect(cm?.data).toEqual({ from: 'tenant' });
  };

  /** A tenant added back after its removal: Flux holds and syncs it, its namespace and deploy key are in place. */
  const expectAddedBack = async (name: string) => {
    await until(tenantRef('Kustomization', `tenant-${name}`, 'flux-system'), isReady);
    await until(tenantRef('Kustomization', name, name), isReady);
    const ns = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name });
    expect(ns?.metadata.deletionTimestamp).toBeUndefined();
    const secret = { apiVersion: 'v1', kind: 'Secret', namespace: name, name: `${name}-deploy-key` };
    expect(await kube.get(secret)).toBeDefined();
    await expectTenantSynced(name);
  };

  it('add-tenant gives the tenant its own read-only deploy key in its own namespace, and Flux syncs with it', async () => {
    const report = await addTenants(fluxContext(cluster, { kube }).ctx, [T], io());
    expect(report.fleet.committed).toBe(true);
    expect(report.keys).toHaveLength(1);
    const key = report.keys[0]!;
    expect(key).toMatchObject({ tenant: T.name, secret: `${T.name}/${T.name}-deploy-key`, created: true });
    expect(key.publicKey).toMatch(/^ssh-ed25519 /);
    // Not flux-system's key: the tenant's own.
    const flux = (await storedDeployKeys(kube)).find((k) => k.secret === 'flux-system/flux-system');
    expect(key.publicKey).not.toBe(flux?.publicKey);

    // The root sync applies tenant-<t>; source-controller clones the tenant's repo with the tenant's key.
    const git = await until(tenantRef('GitRepository'), isReady);
    expect(git.spec?.secretRef).toEqual({ name: `${T.name}-deploy-key` });
    await until(tenantRef('Kustomization'), isReady);
    await expectTenantSynced(T.name);
  });

  it('a re-run changes nothing: no commit, no Kubernetes write, the key kept', async () => {
    const head = await fleetHead(env);
    const counted = countingKube(kube);
    const report = await addTenants(fluxContext(cluster, { kube: counted.kube }).ctx, [T], io());
    expect(report.fleet.committed).toBe(false);
    expect(report.keys.map((k) => k.created)).toEqual([false]);
    expect(counted.counts.writes).toBe(0);
    expect(await fleetHead(env)).toBe(head);
  });

  it('--apply: every object is in before Flux is asked to fetch (the Kustomization after its RoleBinding), and it syncs', async () => {
    const counted = countingKube(kube);
    const report = await addTenants(fluxContext(cluster, { kube: counted.kube }).ctx, [U], { ...io(), apply: true });
    expect(report.live?.applied).toBeGreaterThan(0);
    const log = counted.counts.log;
    const ks = log.lastIndexOf(`apply Kustomization ${U.name}`);
    expect(ks).toBeGreaterThan(log.lastIndexOf(`apply RoleBinding ${U.name}-reconciler`));
    expect(log.indexOf(`apply GitRepository ${U.name}`)).toBeLessThan(log.indexOf(`apply ServiceAccount ${U.name}`));
    // Asked after the objects: kustomize-controller meets the tenant's own Kustomization before tenant-<t>.
    expect(log.indexOf('patch GitRepository flux-system')).toBeGreaterThan(ks);
    expect(log.indexOf('patch Kustomization flux-system')).toBeGreaterThan(ks);
    await until(tenantRef('Kustomization', U.name, U.name), isReady);
    await expectTenantSynced(U.name);
  });

  it('remove-tenant --apply deletes only after Flux applied the removal, so adding the tenant again at once keeps it', async () => {
    const removed = await removeTenant(fluxContext(cluster, { kube }).ctx, U.name, { ...io(), apply: true });
    expect(removed.fleet.committed).toBe(true);
    // Flux itself has applied the removal commit and pruned flux-system/tenant-<t> before platctl returned.
    const root = await kube.get<Flux & { status?: { lastAppliedRevision?: string } }>(
      tenantRef('Kustomization', 'flux-system', 'flux-system'),
    );
    expect(root?.status?.lastAppliedRevision).toContain(removed.fleet.commit!);
    expect(await kube.get(tenantRef('Kustomization', `tenant-${U.name}`, 'flux-system'))).toBeUndefined();

    // Added again straight away: nothing left over from the removal deletes the new namespace or its key.
    await addTenants(fluxContext(cluster, { kube }).ctx, [U], { ...io(), apply: true });
    await expectAddedBack(U.name);
  });

  it('remove-tenant without --apply, then add-tenant at once: the add waits for Flux to apply the removal first', async () => {
    const removed = await removeTenant(fluxContext(cluster, { kube }).ctx, U.name, io());
    expect(removed.fleet.committed).toBe(true);
    // Flux still holds tenant-<t> (nothing was deleted): the add must not race its prune.
    expect(await kube.get(tenantRef('Kustomization', `tenant-${U.name}`, 'flux-system'))).toBeDefined();

    const { ctx, log } = fluxContext(cluster, { kube });
    await addTenants(ctx, [U], { ...io(), apply: true });
    expect(log.lines.join('\n')).toContain(
      `waiting for Flux to apply ${cluster.fleet.branch}@sha1:${removed.fleet.commit}`,
    );
    await expectAddedBack(U.name);
  });

  it('a tenant Kustomization that writes into another namespace is refused by impersonation: forbidden', async () => {
    // The team adds a Flux Kustomization of its own that targets namespace default, as its ServiceAccount.
    const escaping = [
      'apiVersion: kustomize.toolkit.fluxcd.io/v1',
      'kind: Kustomization',
      'metadata:',
      '  name: escape',
      'spec:',
      '  interval: 5m',
      `  path: ./teams/${T.name}-escape`,
      '  prune: true',
      `  serviceAccountName: ${T.name}`,
      '  targetNamespace: default',
      `  sourceRef: { kind: GitRepository, name: ${T.name} }`,
      '',
    ].join('\n');
    await pushAsOperator(
      env,
      {
        [`teams/${T.name}/escape.yaml`]: escaping,
        [`teams/${T.name}-escape/cm.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: escaped-${id}\n`,
      },
      `team ${T.name}: try another namespace`,
    );
    await kube.patch(tenantRef('GitRepository'), {
      metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': new Date().toISOString() } },
    });
    const ks = await until(
      tenantRef('Kustomization', 'escape'),
      (r) => r?.status === 'False' && /forbidden/.test(r.message ?? ''),
    );
    const ready = ks.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.message).toContain(`system:serviceaccount:${T.name}:${T.name}`);
    expect(ready?.message).toContain('"default"');
    expect(
      await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: `escaped-${id}` }),
    ).toBeUndefined();
  });
});
