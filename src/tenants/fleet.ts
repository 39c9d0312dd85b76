/**
 * The tenants' side of the fleet repo:
 *
 *   tenants/<tenant>/kustomization.yaml   kustomize list of the files below
 *   tenants/<tenant>/namespaces.yaml      Namespaces
 *   tenants/<tenant>/rbac.yaml            ServiceAccount + RoleBinding per namespace
 *   tenants/<tenant>/policies.yaml        ResourceQuota, LimitRange, NetworkPolicies per namespace
 *   tenants/<tenant>/sync.yaml            the tenant's GitRepository + Kustomization
 *   tenants/<tenant>/tls.yaml             its Certificate in istio-ingress (only with hosts)
 *   <clusterPath>/tenants.yaml            one Flux Kustomization `flux-system/tenant-<tenant>` per tenant
 *
 * Written through the Flux step's `syncFleet` (operator credentials, commit only on change, push retried on
 * a lost race), deletions included.
 */
import path from 'node:path';
import { stringify } from 'yaml';
import type { Exec } from '../clients/exec.js';
import type { KubeObject } from '../clients/kube.js';
import type { ClusterConfig } from '../config/schema.js';
import { clusterPath, type FleetFile, type FleetResult, platformVarsPostBuild, syncFleet } from '../flux/fleet.js';
import { toFleetYaml } from '../flux/substitution.js';
import type { Logger } from '../log.js';
import { type TenantManifests, tenantLabels } from './manifests.js';

/** The tenant's folder in the fleet repo. */
export function tenantDir(tenant: string): string {
  return `tenants/${tenant}`;
}

/** `<clusterPath>/tenants.yaml`: the cluster's list of tenants. */
export function tenantsIndexPath(cluster: ClusterConfig): string {
  return `${clusterPath(cluster)}/tenants.yaml`;
}

const GROUPS = [
  ['namespaces.yaml', 'namespaces', 'Namespaces'],
  ['rbac.yaml', 'rbac', 'ServiceAccount and RoleBinding'],
  ['policies.yaml', 'policies', 'ResourceQuota, LimitRange and NetworkPolicies'],
  ['sync.yaml', 'sync', 'Flux GitRepository and Kustomization'],
  ['tls.yaml', 'tls', 'TLS Certificate'],
] as const;

/** A tenant's files, and the files of its folder that must go (e.g. tls.yaml once it has no host). */
export function tenantFiles(tenant: string, m: TenantManifests): { files: FleetFile[]; remove: string[] } {
  const dir = tenantDir(tenant);
  const files: FleetFile[] = [];
  const remove: string[] = [];
  for (const [file, group, what] of GROUPS) {
    if (m[group].length === 0) {
      remove.push(`${dir}/${file}`);
      continue;
    }
    const head = `# ${what} of tenant ${tenant}: written by platctl add-tenant; platctl rewrites it.\n`;
    files.push({ path: `${dir}/${file}`, content: head + toFleetYaml(m[group]), editable: false });
  }
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: files.map((f) => path.posix.basename(f.path)),
  };
  files.unshift({ path: `${dir}/kustomization.yaml`, content: stringify(kustomization), editable: false });
  return { files, remove };
}

/** The Flux Kustomization that makes the root sync apply `tenants/<tenant>/` (as the privileged controller). */
export function indexKustomization(tenant: string): KubeObject {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: `tenant-${tenant}`, namespace: 'flux-system', labels: tenantLabels(tenant) },
    spec: {
      interval: '10m0s',
      path: `./${tenantDir(tenant)}`,
      prune: true,
      sourceRef: { kind: 'GitRepository', name: 'flux-system' },
      // The lockdown's default account has no rights: tenant onboarding is ops' business, run as the controller.
      serviceAccountName: 'kustomize-controller',
      // The cluster variables (${istio_revision_tag} in namespaces.yaml): tenants/<tenant>/ serves any cluster.
      postBuild: platformVarsPostBuild(),
    },
  };
}

/** `<clusterPath>/tenants.yaml` listing `tenants` (sorted). With none left it holds only a comment. */
export function tenantsIndexFile(cluster: ClusterConfig, tenants: readonly string[]): FleetFile {
  const names = [...new Set(tenants)].sort();
  const head = `# Tenants of cluster ${cluster.name}: written by platctl add-tenant/remove-tenant; platctl rewrites it.\n`;
  const body = names.length > 0 ? toFleetYaml(names.map(indexKustomization)) : '# (no tenants)\n';
  return { path: tenantsIndexPath(cluster), content: head + body, editable: false };
}

/** What a tenant fleet sync did. */
export interface TenantFleetResult extends FleetResult {
  /** Paths deleted (or, in a dry run, that would be). */
  removed: string[];
}

/** Options for {@link syncTenantFleet}. */
export interface TenantFleetOptions {
  exec: Exec;
  log: Logger;
  cluster: ClusterConfig;
  message: string;
  dryRun?: boolean;
  progress?: (m: string) => void;
}

/** Writes `files` and deletes `remove` (files or folders) in one commit through syncFleet. */
export async function syncTenantFleet(
  files: readonly FleetFile[],
  remove: readonly string[],
  o: TenantFleetOptions,
): Promise<TenantFleetResult> {
  const result = await syncFleet(files, {
    exec: o.exec,
    log: o.log,
    url: o.cluster.fleet.url,
    branch: o.cluster.fleet.branch,
    message: o.message,
    progress: o.progress,
    dryRun: o.dryRun,
    remove,
  });
  return { ...result, removed: result.changed.filter((c) => remove.includes(c)) };
}
