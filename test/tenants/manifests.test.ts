/** The tenant manifests (pure): what each tenant is made of, and the fleet files they are written to. */

import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/clients/kube.js';
import { tenantFiles, tenantsIndexFile } from '../../src/tenants/fleet.js';
import {
  allObjects,
  gatewayServers,
  serverName,
  serverOwner,
  TENANT_LABEL,
  type TenantEnv,
  tenantManifests,
} from '../../src/tenants/manifests.js';
import { clusterConfig } from '../helpers/config.js';
import { tenantSpec } from '../helpers/tenants.js';

const env: TenantEnv = { revisionTag: 'prod-stable', issuer: { kind: 'ClusterIssuer', name: 'letsencrypt' } };
const spec = tenantSpec('team-a', { namespaces: ['team-a', 'team-a-jobs'], hosts: ['a.example.com'], role: 'edit' });
const m = tenantManifests(spec, env);
const find = (kind: string, ns?: string, objs: KubeObject[] = allObjects(m)) =>
  objs.filter((o) => o.kind === kind && (ns === undefined || o.metadata.namespace === ns));

describe('tenantManifests', () => {
  it('labels every object with the tenant, and every namespace with the Istio tag', () => {
    for (const o of allObjects(m))
      expect(o.metadata.labels?.[TENANT_LABEL], `${o.kind} ${o.metadata.name}`).toBe('team-a');
    expect(m.namespaces.map((n) => [n.metadata.name, n.metadata.labels?.['istio.io/rev']])).toEqual([
      ['team-a', 'prod-stable'],
      ['team-a-jobs', 'prod-stable'],
    ]);
  });

  it('binds the given role (never cluster-admin) to the tenant ServiceAccounts in each namespace', () => {
    for (const ns of spec.namespaces) {
      expect(find('ServiceAccount', ns).map((o) => o.metadata.name)).toEqual(['team-a']);
      const [rb] = find('RoleBinding', ns);
      expect(rb?.metadata.name).toBe('team-a-reconciler');
      expect(rb?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' });
      expect(rb?.subjects).toEqual(
        spec.namespaces.map((n) => ({ kind: 'ServiceAccount', name: 'team-a', namespace: n })),
      );
    }
    expect(allObjects(m).some((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'ClusterRole')).toBe(false);
  });

  it('puts the Flux source and Kustomization in the first namespace, run as the tenant and aimed at it', () => {
    const [git, ks] = m.sync;
    expect(git).toMatchObject({
      kind: 'GitRepository',
      metadata: { name: 'team-a', namespace: 'team-a' },
      spec: { url: spec.repo, ref: { branch: 'main' } },
    });
    expect(ks).toMatchObject({
      kind: 'Kustomization',
      metadata: { name: 'team-a', namespace: 'team-a' },
      spec: { serviceAccountName: 'team-a', targetNamespace: 'team-a', path: './deploy', prune: true },
    });
  });

  it('quota, limits and default-deny network policies with same-namespace, gateway and DNS allowances', () => {
    const [quota] = find('ResourceQuota', 'team-a-jobs');
    expect(quota?.spec).toEqual({
      hard: { 'requests.cpu': '4', 'limits.cpu': '4', 'requests.memory': '8Gi', 'limits.memory': '8Gi', pods: '50' },
    });
    expect(find('LimitRange', 'team-a')).toHaveLength(1);
    const policies = Object.fromEntries(find('NetworkPolicy', 'team-a').map((p) => [p.metadata.name, p.spec]));
    expect(policies['default-deny']).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const allow = policies['allow-tenant-traffic'] as Record<string, unknown>;
    expect(allow.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(allow.ingress).toEqual([
      { from: [{ podSelector: {} }] },
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-ingress' } } }] },
    ]);
    expect(allow.egress).toEqual([
      { to: [{ podSelector: {} }] },
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } } }],
        ports: [{ protocol: 'TCP', port: 15012 }],
      },
    ]);
    expect(Object.keys(policies).sort()).toEqual(['allow-tenant-traffic', 'default-deny']);
  });

  it('a Certificate in istio-ingress only when the tenant has hosts', () => {
    expect(m.tls).toEqual([
      expect.objectContaining({
        kind: 'Certificate',
        metadata: expect.objectContaining({ name: 'tenant-team-a', namespace: 'istio-ingress' }),
        spec: { secretName: 'tenant-team-a-tls', dnsNames: ['a.example.com'], issuerRef: env.issuer },
      }),
    ]);
    expect(tenantManifests(tenantSpec('b'), env).tls).toEqual([]);
  });
});

describe('gateway servers', () => {
  it('one HTTPS server per host, bound to the tenant namespaces only, named for its owner', () => {
    const servers = gatewayServers({ ...spec, hosts: ['a.example.com', '*.a.example.com'] });
    expect(servers.map((s) => s.hosts)).toEqual([
      ['team-a/a.example.com', 'team-a-jobs/a.example.com'],
      ['team-a/*.a.example.com', 'team-a-jobs/*.a.example.com'],
    ]);
    expect(servers.map(serverOwner)).toEqual(['team-a', 'team-a']);
    expect(new Set(servers.map((s) => s.port.name)).size).toBe(2);
    expect(servers[0]?.tls).toEqual({ mode: 'SIMPLE', credentialName: 'tenant-team-a-tls' });
  });

  it('ownership parses the tenant out of the name; ops servers have none', () => {
    expect(serverOwner({ name: serverName('a-b', 'x.example.com') })).toBe('a-b');
    expect(serverOwner({ name: 'https' })).toBeUndefined();
    expect(serverOwner({})).toBeUndefined();
  });
});

describe('fleet files', () => {
  it('tenants/<tenant>/ holds a kustomization listing every file; tls.yaml only with hosts', () => {
    const { files, remove } = tenantFiles('team-a', m);
    expect(files.map((f) => f.path)).toEqual([
      'tenants/team-a/kustomization.yaml',
      'tenants/team-a/namespaces.yaml',
      'tenants/team-a/rbac.yaml',
      'tenants/team-a/policies.yaml',
      'tenants/team-a/sync.yaml',
      'tenants/team-a/tls.yaml',
    ]);
    expect(remove).toEqual([]);
    expect(parse(files[0]!.content).resources).toEqual([
      'namespaces.yaml',
      'rbac.yaml',
      'policies.yaml',
      'sync.yaml',
      'tls.yaml',
    ]);
    const docs = parseAllDocuments(files.find((f) => f.path.endsWith('rbac.yaml'))!.content).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'RoleBinding', 'ServiceAccount', 'RoleBinding']);
    expect(tenantFiles('b', tenantManifests(tenantSpec('b'), env)).remove).toEqual(['tenants/b/tls.yaml']);
  });

  it('<clusterPath>/tenants.yaml lists one Flux Kustomization per tenant, sorted, and nothing when empty', () => {
    const cluster = clusterConfig('demo');
    const file = tenantsIndexFile(cluster, ['b', 'a', 'b']);
    expect(file.path).toBe('clusters/demo/tenants.yaml');
    const docs = parseAllDocuments(file.content).map((d) => d.toJS());
    expect(docs.map((d) => [d.metadata.namespace, d.metadata.name, d.spec.path])).toEqual([
      ['flux-system', 'tenant-a', './tenants/a'],
      ['flux-system', 'tenant-b', './tenants/b'],
    ]);
    expect(docs[0].spec).toMatchObject({ prune: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' } });
    const empty = tenantsIndexFile(cluster, []);
    expect(
      parseAllDocuments(empty.content)
        .map((d) => d.toJS())
        .filter(Boolean),
    ).toEqual([]);
  });
});
