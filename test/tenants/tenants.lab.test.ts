/**
 * add-tenant / remove-tenant against the lab: the real kube-apiserver (RBAC authorizer, namespace controller),
 * the real fleet repo over sshd (pushed to as the operator, read back through a fresh clone), and the upstream
 * Istio Gateway and Flux CRDs. No controller runs: nothing here pretends to be one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KubeClient, KubeObject } from '../../src/clients/kube.js';
import { createPrompter } from '../../src/clients/prompt.js';
import { isPlatctlError } from '../../src/errors.js';
import { type GatewayObject, gatewayRef } from '../../src/tenants/gateway.js';
import { serverOwner, TENANT_LABEL, type TenantSpec } from '../../src/tenants/manifests.js';
import { addTenants, removeTenant } from '../../src/tenants/tenants.js';
import {
  countingKube,
  fleetHead,
  fluxContext,
  labCluster,
  labKube,
  uniqueName,
  useOperatorCredentials,
} from '../helpers/flux-context.js';
import { cloneFleet, ensureTenantPrereqs, memoryStore, tenantSpec } from '../helpers/tenants.js';
import { lab } from '../lab/env.js';

const env = lab();
const id = Math.random().toString(36).slice(2, 7);
const cluster = labCluster(env, uniqueName('tenants'));
// A Gateway of its own (istio.gateway), so parallel runs on the shared lab do not meet.
Object.assign(cluster.istio, { gateway: `gw-${id}` });
const A = tenantSpec(`ta-${id}`, { namespaces: [`ta-${id}`, `ta-${id}-jobs`], hosts: [`a-${id}.lab.test`] });
const B = tenantSpec(`tb-${id}`, { hosts: [`b-${id}.lab.test`], role: 'edit' });
const store = memoryStore(cluster.name);
const saved = process.env.GIT_SSH_COMMAND;
let kube: KubeClient;
let cleanup: () => Promise<void>;

const io = () => ({ store, state: store.current });
function context(opts: { dryRun?: boolean; yes?: boolean } = {}) {
  const counted = countingKube(kube);
  const prompt = createPrompter({ yes: opts.yes ?? true, interactive: false });
  const { ctx, log } = fluxContext(cluster, { kube: counted.kube, prompt, yes: opts.yes ?? true });
  return { ctx: { ...ctx, dryRun: opts.dryRun ?? false }, counts: counted.counts, log };
}
const nsRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });
const gatewayServers = async () => (await kube.get<GatewayObject>(gatewayRef(cluster)))?.spec?.servers ?? [];
const objectsOf = (s: TenantSpec) => s.namespaces.length * 7 + 2 + (s.hosts.length > 0 ? 1 : 0);

beforeAll(async () => {
  useOperatorCredentials(env);
  kube = await labKube(env);
  cleanup = await ensureTenantPrereqs(kube, `gw-${id}`);
});

afterAll(async () => {
  for (const ns of await kube.list('v1', 'Namespace', { labelSelector: TENANT_LABEL })) {
    if (ns.metadata.name.includes(id)) await kube.delete(nsRef(ns.metadata.name));
  }
  await cleanup();
  if (saved === undefined) delete process.env.GIT_SSH_COMMAND;
  else process.env.GIT_SSH_COMMAND = saved;
});

describe('add-tenant (lab)', () => {
  it('--dry-run reports the fleet files and objects, and writes nothing anywhere', async () => {
    const head = await fleetHead(env);
    const { ctx, counts } = context({ dryRun: true });
    const report = await addTenants(ctx, [A, B], { ...io(), apply: true });
    expect(report.fleet.committed).toBe(false);
    expect(report.fleet.changed).toContain(`tenants/${A.name}/rbac.yaml`);
    expect(report.fleet.changed).toContain(`clusters/${cluster.name}/tenants.yaml`);
    // Everything but the two Certificates: cert-manager is not in the lab (left to Flux, with a warning).
    expect(report.live?.applied).toBe(objectsOf(A) + objectsOf(B) - 2);
    expect(report.gateway.changed).toBe(true);
    expect(counts.writes).toBe(0);
    expect(store.writes).toBe(0);
    expect(await fleetHead(env)).toBe(head);
  });

  it('--apply: files in the fleet repo, objects in the cluster, hosts on the Gateway, a compact record', async () => {
    const { ctx, counts } = context();
    const report = await addTenants(ctx, [A, B], { ...io(), apply: true });
    expect(report.fleet.committed).toBe(true);
    const fleet = await cloneFleet(env);
    try {
      expect(fleet.head).toBe(report.fleet.commit);
      for (const f of [
        'kustomization.yaml',
        'namespaces.yaml',
        'rbac.yaml',
        'policies.yaml',
        'sync.yaml',
        'tls.yaml',
      ]) {
        expect(fleet.exists(`tenants/${A.name}/${f}`), f).toBe(true);
      }
      const index = parseAllDocuments(fleet.read(`clusters/${cluster.name}/tenants.yaml`)).map((d) => d.toJS());
      expect(index.map((k) => [k.kind, k.metadata.name, k.spec.path])).toEqual([
        ['Kustomization', `tenant-${A.name}`, `./tenants/${A.name}`],
        ['Kustomization', `tenant-${B.name}`, `./tenants/${B.name}`],
      ]);
    } finally {
      await fleet.cleanup();
    }
    for (const ns of A.namespaces) {
      const live = await kube.get(nsRef(ns));
      expect(live?.metadata.labels).toMatchObject({ [TENANT_LABEL]: A.name, 'istio.io/rev': 'prod-stable' });
      const rb = await kube.get<KubeObject & { roleRef: { name: string } }>({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        namespace: ns,
        name: `${A.name}-reconciler`,
      });
      expect(rb?.roleRef.name).toBe('admin');
      const policies = await kube.list('networking.k8s.io/v1', 'NetworkPolicy', { namespace: ns });
      expect(policies.map((p) => p.metadata.name).sort()).toEqual(['allow-tenant-traffic', 'default-deny']);
    }
    const ks = await kube.get<KubeObject & { spec: Record<string, unknown> }>({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      namespace: A.name,
      name: A.name,
    });
    expect(ks?.spec).toMatchObject({ serviceAccountName: A.name, targetNamespace: A.name });
    // cert-manager is not in the lab: the Certificate stays in the fleet for Flux, with a warning.
    expect(report.live?.unserved).toEqual(['cert-manager.io/v1 Certificate']);
    expect(counts.writes).toBe(objectsOf(A) + objectsOf(B) - 2 + 1); // minus the Certificates, plus the Gateway

    const servers = await gatewayServers();
    expect(servers.map((s) => s.name)).toEqual([
      'ops-http',
      `tenant.${A.name}.${A.hosts[0]}`,
      `tenant.${B.name}.${B.hosts[0]}`,
    ]);
    expect(servers[1]?.hosts).toEqual(A.namespaces.map((ns) => `${ns}/${A.hosts[0]}`));
    expect(store.current.records.tenants?.[A.name]).toEqual({
      namespaces: A.namespaces,
      hosts: A.hosts,
      repo: A.repo,
      role: 'admin',
      commit: report.fleet.commit,
    });
  });

  it('a re-run is a no-op: no commit, no kube write, no state write', async () => {
    const head = await fleetHead(env);
    const writes = store.writes;
    const { ctx, counts } = context();
    const report = await addTenants(ctx, [A, B], { ...io(), apply: true });
    expect(report).toMatchObject({
      fleet: { committed: false, changed: [] },
      gateway: { changed: false },
      stateWrites: 0,
    });
    expect(report.live).toMatchObject({ applied: 0, deleted: 0, unchanged: objectsOf(A) + objectsOf(B) - 2 });
    expect(counts.writes).toBe(0);
    expect(store.writes).toBe(writes);
    expect(await fleetHead(env)).toBe(head);
  });

  it('refuses a host bound to another tenant and a namespace another tenant holds (by state or live label)', async () => {
    const head = await fleetHead(env);
    const { ctx, counts } = context();
    const refused = async (spec: TenantSpec, message: RegExp) => {
      const err = await addTenants(ctx, [spec], io()).catch((e: unknown) => e);
      expect(isPlatctlError(err) && err.exitCode).toBe(2);
      expect(String((err as Error).message)).toMatch(message);
    };
    await refused(
      tenantSpec(`tc-${id}`, { hosts: [A.hosts[0]!] }),
      new RegExp(`host ${A.hosts[0]} is already bound to tenant ${A.name}`),
    );
    await refused(
      tenantSpec(`tc-${id}`, { namespaces: [`ta-${id}-jobs`] }),
      new RegExp(`already belongs to tenant ${A.name}`),
    );
    // A namespace labelled for a tenant this state does not know (another operator's run): still refused.
    await kube.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: `ghost-${id}`, labels: { [TENANT_LABEL]: `ghost-${id}` } },
    });
    await refused(
      tenantSpec(`tc-${id}`, { namespaces: [`ghost-${id}`] }),
      new RegExp(`namespace ghost-${id} already belongs to tenant ghost-${id}`),
    );
    expect(counts.writes).toBe(0);
    expect(await fleetHead(env)).toBe(head);
    expect(await kube.get(nsRef(`tc-${id}`))).toBeUndefined();
  });

  it('dropping a namespace and a host: its objects, server and files go; the rest stays', async () => {
    const smaller = { ...A, namespaces: [A.name], hosts: [] };
    // Deleting a namespace is asked first, before anything is written: no terminal and no --yes refuses.
    const head = await fleetHead(env);
    const asked = context({ yes: false });
    await expect(addTenants(asked.ctx, [smaller], { ...io(), apply: true })).rejects.toMatchObject({ code: 'NO_TTY' });
    expect(asked.counts.writes).toBe(0);
    expect(await fleetHead(env)).toBe(head);
    const { ctx } = context();
    const report = await addTenants(ctx, [smaller], { ...io(), apply: true });
    expect(report.fleet.changed).toContain(`tenants/${A.name}/tls.yaml`);
    expect(report.live?.deleted).toBe(7); // the dropped namespace and its 6 objects
    expect(await kube.get(nsRef(`ta-${id}-jobs`))).toBeUndefined();
    expect(await kube.get(nsRef(A.name))).toBeDefined();
    expect((await gatewayServers()).map(serverOwner)).toEqual([undefined, B.name]);
    const fleet = await cloneFleet(env);
    expect(fleet.exists(`tenants/${A.name}/tls.yaml`)).toBe(false);
    expect(fleet.exists(`tenants/${A.name}/rbac.yaml`)).toBe(true);
    await fleet.cleanup();
  });
});

describe('remove-tenant (lab)', () => {
  it('reverses add-tenant: files and reference, Gateway servers, objects (namespaces waited for), record', async () => {
    const { ctx } = context();
    const report = await removeTenant(ctx, A.name, { ...io(), apply: true });
    expect(report.fleet.committed).toBe(true);
    expect(report.fleet.changed).toContain(`tenants/${A.name}`);
    expect(await kube.get(nsRef(A.name))).toBeUndefined();
    expect(await kube.list('v1', 'ServiceAccount', { labelSelector: `${TENANT_LABEL}=${A.name}` })).toEqual([]);
    expect(store.current.records.tenants?.[A.name]).toBeUndefined();
    expect(store.current.records.tenants?.[B.name]).toBeDefined();
    const fleet = await cloneFleet(env);
    try {
      expect(fleet.exists(`tenants/${A.name}`)).toBe(false);
      expect(fleet.exists(`tenants/${B.name}/rbac.yaml`)).toBe(true);
      const index = parseAllDocuments(fleet.read(`clusters/${cluster.name}/tenants.yaml`)).map((d) => d.toJS());
      expect(index.map((k) => k.metadata.name)).toEqual([`tenant-${B.name}`]);
    } finally {
      await fleet.cleanup();
    }
  });

  it('a second remove is a no-op: no commit, no kube write, no state write', async () => {
    const head = await fleetHead(env);
    const writes = store.writes;
    const { ctx, counts } = context();
    const report = await removeTenant(ctx, A.name, { ...io(), apply: true });
    expect(report).toMatchObject({ fleet: { committed: false }, gateway: { changed: false }, stateWrites: 0 });
    expect(counts.writes).toBe(0);
    expect(store.writes).toBe(writes);
    expect(await fleetHead(env)).toBe(head);
  });

  it('removing the last tenant leaves an empty tenants.yaml and the Gateway with only ops servers', async () => {
    const { ctx } = context();
    await removeTenant(ctx, B.name, { ...io(), apply: true });
    expect((await gatewayServers()).map((s) => s.name)).toEqual(['ops-http']);
    expect(await kube.get(nsRef(B.name))).toBeUndefined();
    const fleet = await cloneFleet(env);
    try {
      expect(fleet.exists(`tenants/${B.name}`)).toBe(false);
      const docs = parseAllDocuments(fleet.read(`clusters/${cluster.name}/tenants.yaml`)).map((d) => d.toJS());
      expect(docs.filter(Boolean)).toEqual([]);
    } finally {
      await fleet.cleanup();
    }
    expect(store.current.records.tenants).toEqual({});
  });
});
