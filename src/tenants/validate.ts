/**
 * Bad input for add-tenant/remove-tenant, refused before anything is written (exit 2): names that are not
 * DNS-1123 labels, a cluster-admin role, malformed quota/hosts/repo, platform namespaces, and anything that
 * already belongs to another tenant — according to platctl's state records AND to the live cluster (namespace
 * labels, the Gateway's servers), so a tenant made by another copy of the state is still seen.
 */
import type { KubeObject } from '../clients/kube.js';
import { dns1123Label } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { type GatewayServer, serverOwner, TENANT_LABEL, type TenantQuota, type TenantSpec } from './manifests.js';
import type { TenantRecord } from './records.js';

/** Namespaces no tenant may take. */
export const PLATFORM_NAMESPACES = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'flux-system',
  'istio-system',
  'istio-ingress',
  'platctl-system',
];

const usage = (message: string, hint?: string) => new PlatctlError('USAGE', message, { hint });
const hostPattern = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
const quantity = /^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** Refuses a tenant (or namespace) name that is not a DNS-1123 label. */
export function assertLabel(what: string, name: string): void {
  if (name.length > 63 || !dns1123Label.test(name)) {
    throw usage(
      `${what} "${name}" is not a DNS-1123 label`,
      'use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit',
    );
  }
}

/** Parses `--quota cpu=4,memory=8Gi,pods=50` (every key optional, over `base`). */
export function parseQuota(text: string, base: TenantQuota): TenantQuota {
  const out = { ...base };
  for (const part of text.split(',').filter(Boolean)) {
    const [key, value = ''] = part.split('=').map((s) => s.trim());
    if (key === 'pods' && /^[1-9]\d*$/.test(value)) out.pods = Number(value);
    else if ((key === 'cpu' || key === 'memory') && quantity.test(value)) out[key] = value;
    else {
      throw usage(
        `--quota "${part}" is not cpu=<quantity>, memory=<quantity> or pods=<count>`,
        'e.g. --quota cpu=4,memory=8Gi,pods=50',
      );
    }
  }
  return out;
}

/** Checks one tenant's own fields (no cluster needed). */
export function assertSpec(spec: TenantSpec, extraReserved: readonly string[] = []): void {
  assertLabel('tenant name', spec.name);
  if (spec.namespaces.length === 0) throw usage(`tenant ${spec.name} has no namespace`);
  const reserved = new Set([...PLATFORM_NAMESPACES, ...extraReserved]);
  for (const ns of spec.namespaces) {
    assertLabel('namespace', ns);
    if (reserved.has(ns)) {
      throw usage(`namespace ${ns} is a platform namespace: no tenant may own it`, 'pick another --namespace');
    }
  }
  if (new Set(spec.namespaces).size !== spec.namespaces.length) {
    throw usage(`tenant ${spec.name} lists a namespace twice: ${spec.namespaces.join(', ')}`);
  }
  if (spec.role.trim() === '' || spec.role === 'cluster-admin') {
    throw usage(
      `tenant ${spec.name}: --role ${spec.role || '""'} is refused: a tenant never gets cluster-admin`,
      'bind a namespaced ClusterRole such as admin (the default) or edit',
    );
  }
  if (!spec.repo) {
    throw usage(
      `tenant ${spec.name} has no source repository`,
      'pass --repo <url> or set tenants[].repo in platform.yaml',
    );
  }
  if (!/^(https?|ssh):\/\/\S+$/.test(spec.repo)) {
    throw usage(
      `tenant ${spec.name}: --repo "${spec.repo}" is not an https:// or ssh:// URL`,
      'Flux needs a URL such as https://github.com/org/app.git or ssh://git@github.com/org/app.git',
    );
  }
  if (spec.secretRef !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(spec.secretRef)) {
    throw usage(`tenant ${spec.name}: --secret-ref "${spec.secretRef}" is not a Secret name`);
  }
  if (!/^[^\s~^:?*[\\]+$/.test(spec.branch) || spec.branch.includes('..')) {
    throw usage(`tenant ${spec.name}: --branch "${spec.branch}" is not a git branch name`);
  }
  if (spec.path.startsWith('/') || spec.path.split('/').includes('..')) {
    throw usage(`tenant ${spec.name}: --path "${spec.path}" must be relative to the repository root, without ".."`);
  }
  for (const host of spec.hosts) {
    if (host.length > 253 || !hostPattern.test(host)) {
      throw usage(
        `tenant ${spec.name}: --host "${host}" is not a DNS name`,
        'use a lowercase name such as app.example.com (or *.example.com)',
      );
    }
  }
  if (new Set(spec.hosts).size !== spec.hosts.length) throw usage(`tenant ${spec.name} lists a host twice`);
}

/** Who already holds what: namespaces and hosts, from state and from the cluster. */
export interface Claims {
  /** namespace → owning tenant; `null`: the namespace exists and belongs to no tenant. */
  namespaces: Map<string, string | null>;
  /** host → who serves it ("tenant a", or an ops server of the Gateway). */
  hosts: Map<string, { tenant?: string; what: string }>;
}

/** Gathers the claims of state records, live namespaces and the Gateway's servers. */
export function collectClaims(
  records: Readonly<Record<string, TenantRecord>>,
  liveNamespaces: readonly KubeObject[],
  gateway?: { name: string; servers: readonly GatewayServer[] },
): Claims {
  const claims: Claims = { namespaces: new Map(), hosts: new Map() };
  for (const ns of liveNamespaces) {
    claims.namespaces.set(ns.metadata.name, ns.metadata.labels?.[TENANT_LABEL] ?? null);
  }
  for (const [tenant, r] of Object.entries(records)) {
    for (const ns of r.namespaces) claims.namespaces.set(ns, claims.namespaces.get(ns) ?? tenant);
    for (const host of r.hosts) claims.hosts.set(host, { tenant, what: `tenant ${tenant}` });
  }
  for (const server of gateway?.servers ?? []) {
    const tenant = serverOwner(server);
    for (const h of server.hosts ?? []) {
      const host = h.includes('/') ? h.slice(h.indexOf('/') + 1) : h;
      if (claims.hosts.has(host)) continue;
      const what = tenant
        ? `tenant ${tenant}`
        : `server "${server.name ?? server.port?.name}" of Gateway ${gateway?.name}`;
      claims.hosts.set(host, { tenant, what });
    }
  }
  return claims;
}

/** Refuses namespaces, tenant names and hosts that belong to someone else (or are asked for twice). */
export function assertNoConflicts(specs: readonly TenantSpec[], claims: Claims): void {
  const asked = new Map<string, string>();
  const askedHosts = new Map<string, string>();
  for (const spec of specs) {
    const t = spec.name;
    const nameOwner = claims.namespaces.get(t);
    if (nameOwner && nameOwner !== t && !spec.namespaces.includes(t)) {
      throw usage(`tenant name ${t} is already a namespace of tenant ${nameOwner}`, 'pick another tenant name');
    }
    for (const ns of spec.namespaces) {
      const owner = claims.namespaces.get(ns);
      if (owner === null) {
        throw usage(
          `namespace ${ns} already exists and belongs to no tenant: platctl does not hand an existing namespace to a tenant`,
          `pick a new namespace, or label it ${TENANT_LABEL}=${t} first if you really mean to give it to ${t}`,
        );
      }
      if (owner !== undefined && owner !== t) {
        throw usage(
          `namespace ${ns} already belongs to tenant ${owner}`,
          `pick another --namespace, or remove-tenant ${owner} first`,
        );
      }
      const other = asked.get(ns);
      if (other && other !== t) throw usage(`namespace ${ns} is asked for by both tenants ${other} and ${t}`);
      asked.set(ns, t);
    }
    for (const host of spec.hosts) {
      const holder = claims.hosts.get(host);
      if (holder && holder.tenant !== t) {
        throw usage(`host ${host} is already bound to ${holder.what}`, 'each host belongs to exactly one tenant');
      }
      const other = askedHosts.get(host);
      if (other && other !== t) throw usage(`host ${host} is asked for by both tenants ${other} and ${t}`);
      askedHosts.set(host, t);
    }
  }
}
