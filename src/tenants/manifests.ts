/**
 * A tenant as Kubernetes objects (pure: no I/O). One tenant gets, in each of its namespaces, a Namespace
 * (Istio revision tag label), a ServiceAccount and a RoleBinding to a namespaced ClusterRole, a ResourceQuota,
 * a LimitRange and default-deny NetworkPolicies with narrow allowances; in its first namespace a Flux
 * GitRepository and Kustomization that run as the tenant's ServiceAccount; and, when it has hosts, a TLS
 * Certificate in the gateway namespace. Everything carries the tenant label, so it can be found and pruned.
 * See docs/commands/add-tenant.md.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../clients/kube.js';

/** The label every tenant object carries (the one Flux's multi-tenancy docs use). */
export const TENANT_LABEL = 'toolkit.fluxcd.io/tenant';
/** Marks objects platctl made: only those are ever pruned. */
export const MANAGED_LABEL = 'app.kubernetes.io/managed-by';
/** Namespace of the ingress gateway (and of the tenants' TLS certificates). */
export const GATEWAY_NAMESPACE = 'istio-ingress';

/** Per-namespace compute quota. */
export interface TenantQuota {
  cpu: string;
  memory: string;
  pods: number;
}

/** A validated tenant: flags merged over its platform.yaml entry. */
export interface TenantSpec {
  name: string;
  /** First one hosts the Flux objects and is the Kustomization's targetNamespace. */
  namespaces: string[];
  repo: string;
  /** A Secret the team provides for `repo` (default: platctl's deploy key for ssh, none for https). */
  secretRef?: string;
  branch: string;
  path: string;
  /** ClusterRole bound in each namespace (never cluster-admin). */
  role: string;
  quota: TenantQuota;
  hosts: string[];
}

/** Cluster-wide facts the manifests depend on. */
export interface TenantEnv {
  /** Value of the namespaces' `istio.io/rev` label (the first revision tag). */
  revisionTag: string;
  /** cert-manager issuer of the tenants' certificates. */
  issuer: { kind: 'ClusterIssuer' | 'Issuer'; name: string };
}

/** The quota a tenant gets when none is given. */
export const DEFAULT_QUOTA: TenantQuota = { cpu: '4', memory: '8Gi', pods: 50 };

/** A tenant's objects, grouped as they are written to the fleet repo (and in apply order). */
export interface TenantManifests {
  namespaces: KubeObject[];
  rbac: KubeObject[];
  policies: KubeObject[];
  sync: KubeObject[];
  tls: KubeObject[];
}

/** The labels of every object of a tenant. */
export function tenantLabels(tenant: string): Record<string, string> {
  return { [TENANT_LABEL]: tenant, [MANAGED_LABEL]: 'platctl' };
}

/** The Secret platctl makes for a tenant's ssh repository (src/tenants/keys.ts). */
export function deployKeySecretName(tenant: string): string {
  return `${tenant}-deploy-key`;
}

/** The Secret the tenant's GitRepository uses (`spec.secretRef`): the team's own, platctl's deploy key, or none. */
export function sourceSecretName(spec: Pick<TenantSpec, 'name' | 'repo' | 'secretRef'>): string | undefined {
  return spec.secretRef ?? (spec.repo.startsWith('ssh://') ? deployKeySecretName(spec.name) : undefined);
}

/** Name of the Secret (in the gateway namespace) holding a tenant's certificate. */
export function tlsSecretName(tenant: string): string {
  return `tenant-${tenant}-tls`;
}

const meta = (tenant: string, name: string, namespace?: string) => ({
  name,
  ...(namespace ? { namespace } : {}),
  labels: tenantLabels(tenant),
});

/**
 * Default deny for every pod of the namespace, then one policy opening the narrow paths: same-namespace traffic,
 * ingress from the gateway namespace, egress to cluster DNS and to istiod.
 */
function networkPolicies(tenant: string, ns: string): KubeObject[] {
  const policy = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(tenant, name, ns),
    spec: { podSelector: {}, ...spec },
  });
  const nsSelector = (name: string) => ({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
  });
  const dns = { ...nsSelector('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } };
  return [
    policy('default-deny', { policyTypes: ['Ingress', 'Egress'] }),
    // One policy for every allowance (fewer objects per namespace: 100 tenants are applied in seconds).
    policy('allow-tenant-traffic', {
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }] }, { from: [nsSelector(GATEWAY_NAMESPACE)] }],
      egress: [
        { to: [{ podSelector: {} }] },
        {
          to: [dns],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        // Sidecars fetch their configuration from istiod (xDS on 15012); without it no pod in the mesh starts.
        { to: [nsSelector('istio-system')], ports: [{ protocol: 'TCP', port: 15012 }] },
      ],
    }),
  ];
}

/** Every object of one tenant. */
export function tenantManifests(spec: TenantSpec, env: TenantEnv): TenantManifests {
  const t = spec.name;
  const first = spec.namespaces[0] ?? t;
  const secret = sourceSecretName(spec);
  const out: TenantManifests = { namespaces: [], rbac: [], policies: [], sync: [], tls: [] };
  // Every namespace binds the ServiceAccounts of all the tenant's namespaces: each can act across its own.
  const subjects = spec.namespaces.map((ns) => ({ kind: 'ServiceAccount', name: t, namespace: ns }));
  for (const ns of spec.namespaces) {
    out.namespaces.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { ...tenantLabels(t), 'istio.io/rev': env.revisionTag } },
    });
    out.rbac.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(t, t, ns) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: meta(t, `${t}-reconciler`, ns),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: spec.role },
        subjects,
      },
    );
    const { cpu, memory, pods } = spec.quota;
    out.policies.push(
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: meta(t, 'tenant-quota', ns),
        spec: {
          hard: {
            'requests.cpu': cpu,
            'limits.cpu': cpu,
            'requests.memory': memory,
            'limits.memory': memory,
            pods: String(pods),
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: meta(t, 'tenant-limits', ns),
        spec: {
          limits: [
            {
              type: 'Container',
              defaultRequest: { cpu: '100m', memory: '128Mi' },
              default: { cpu: '500m', memory: '512Mi' },
            },
          ],
        },
      },
      ...networkPolicies(t, ns),
    );
  }
  out.sync.push(
    {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: meta(t, t, first),
      spec: {
        interval: '1m0s',
        url: spec.repo,
        ref: { branch: spec.branch },
        // The tenant's own credentials in its own namespace (the lockdown forbids borrowing flux-system's).
        ...(secret ? { secretRef: { name: secret } } : {}),
      },
    },
    {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: meta(t, t, first),
      spec: {
        interval: '5m0s',
        path: spec.path,
        prune: true,
        sourceRef: { kind: 'GitRepository', name: t },
        serviceAccountName: t,
        targetNamespace: first,
      },
    },
  );
  if (spec.hosts.length > 0) {
    out.tls.push({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(t, `tenant-${t}`, GATEWAY_NAMESPACE),
      spec: { secretName: tlsSecretName(t), dnsNames: [...spec.hosts], issuerRef: { ...env.issuer } },
    });
  }
  return out;
}

/** All of a tenant's objects in apply order (namespaces first). */
export function allObjects(m: TenantManifests): KubeObject[] {
  return [...m.namespaces, ...m.rbac, ...m.policies, ...m.sync, ...m.tls];
}

/** One server of an Istio Gateway (networking.istio.io/v1). */
export interface GatewayServer {
  name?: string;
  port: { number: number; name: string; protocol: string };
  hosts: string[];
  tls?: { mode: string; credentialName?: string };
  [k: string]: unknown;
}

const SERVER_PREFIX = 'tenant.';

/** The server name marking an entry as a tenant's: `tenant.<tenant>.<host>` (tenant names have no dots). */
export function serverName(tenant: string, host: string): string {
  return `${SERVER_PREFIX}${tenant}.${host}`;
}

/** The tenant owning a Gateway server, from its name; undefined for servers ops wrote. */
export function serverOwner(server: { name?: unknown }): string | undefined {
  if (typeof server.name !== 'string' || !server.name.startsWith(SERVER_PREFIX)) return undefined;
  const rest = server.name.slice(SERVER_PREFIX.length);
  const dot = rest.indexOf('.');
  return dot > 0 ? rest.slice(0, dot) : undefined;
}

/**
 * The tenant's entries of the ops-owned Gateway: one HTTPS server per host, bound to the tenant's namespaces
 * only (`<ns>/<host>`), so only VirtualServices in those namespaces can attach to it.
 */
export function gatewayServers(spec: TenantSpec): GatewayServer[] {
  return spec.hosts.map((host) => ({
    name: serverName(spec.name, host),
    // Port names must be unique across a Gateway's servers: derived from tenant and host.
    port: {
      number: 443,
      name: `https-${createHash('sha256').update(`${spec.name}/${host}`).digest('hex').slice(0, 12)}`,
      protocol: 'HTTPS',
    },
    hosts: spec.namespaces.map((ns) => `${ns}/${host}`),
    tls: { mode: 'SIMPLE', credentialName: tlsSecretName(spec.name) },
  }));
}
