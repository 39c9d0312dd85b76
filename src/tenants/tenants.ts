/**
 * add-tenant / remove-tenant. GitOps first: the tenant's manifests go to the fleet repo (tenants/<tenant>/,
 * referenced from <clusterPath>/tenants.yaml) with the operator's credentials; the tenant's hosts are bound
 * to the ops Gateway; `--apply` also puts the objects in the cluster at once. A re-run changes nothing: no
 * commit, no kube write, no state write. State keeps one compact record per tenant (`state.records.tenants`).
 * {@link addTenants} takes a batch (one fleet commit, one Gateway write, two state writes) for scale.
 */
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { fluxVar } from '../flux/substitution.js';
import { injectionLabel } from '../istio/revision.js';
import type { StepContext } from '../step.js';
import { crashPoint } from '../test-seams.js';
import { platformVars, type VarSource } from '../vars/catalogue.js';
import { syncTenantFleet, tenantDir, tenantFiles, tenantsIndexFile } from './fleet.js';
import { askFluxToFetch, waitForFluxRemoval, waitForPendingRemovals } from './flux-sync.js';
import { bindGateway, gatewayLabel, gatewayRef, missingGateway, readGateway } from './gateway.js';
import type { TenantKey } from './keys.js';
import { ensureTenantKeys, showNewKeys } from './keys.js';
import { planLive, runPlan, sameJson } from './live.js';
import {
  allObjects,
  DEFAULT_QUOTA,
  gatewayServers,
  TENANT_LABEL,
  type TenantEnv,
  type TenantSpec,
  tenantManifests,
} from './manifests.js';
import { recordOf, saveRecords, type TenantRecord, type TenantStateIo, tenantRecords } from './records.js';
import { assertLabel, assertNoConflicts, assertSpec, collectClaims, parseQuota } from './validate.js';

/** How the tenant commands sync the fleet repo: the context's clients, and the commit message. */
function fleetSync(ctx: StepContext, message: string) {
  return { exec: ctx.exec, log: ctx.log, cluster: ctx.cluster, dryRun: ctx.dryRun, progress: ctx.progress, message };
}

/** The command-line flags of add-tenant (each overrides the tenant's platform.yaml entry). */
export interface TenantFlags {
  namespace?: string[];
  repo?: string;
  secretRef?: string;
  branch?: string;
  path?: string;
  role?: string;
  quota?: string;
  host?: string[];
}

/** Flags merged over the `tenants:` entry of platform.yaml, validated (USAGE on bad input). */
export function resolveTenant(cluster: ClusterConfig, name: string, flags: TenantFlags = {}): TenantSpec {
  assertLabel('tenant name', name);
  const entry = cluster.tenants.find((t) => t.name === name);
  const base = entry?.quota ?? DEFAULT_QUOTA;
  const spec: TenantSpec = {
    name,
    namespaces: flags.namespace?.length
      ? [...flags.namespace]
      : entry?.namespaces?.length
        ? [...entry.namespaces]
        : [name],
    repo: flags.repo ?? entry?.repo ?? '',
    ...((flags.secretRef ?? entry?.secretRef) ? { secretRef: flags.secretRef ?? entry?.secretRef } : {}),
    branch: flags.branch ?? entry?.branch ?? 'main',
    path: flags.path ?? entry?.path ?? './',
    role: flags.role ?? entry?.role ?? 'admin',
    quota: flags.quota !== undefined ? parseQuota(flags.quota, base) : { ...base },
    hosts: flags.host?.length ? [...flags.host] : [...(entry?.hosts ?? [])],
  };
  assertSpec(spec, [cluster.vault.namespace]);
  return spec;
}

/** Cluster facts for the manifests: the Istio tag, and the certificates' ClusterIssuer (`istio.issuer`). */
export function tenantEnv(cluster: ClusterConfig): TenantEnv {
  return { revisionTag: injectionLabel(cluster), issuer: { kind: 'ClusterIssuer', name: cluster.istio.issuer } };
}

/**
 * The facts as the fleet files carry them: the Istio tag as `${istio_revision_tag}` (flux-system/platform-vars
 * holds the same value), so one `tenants/<tenant>/` folder serves every cluster that lists the tenant.
 */
export function tenantFleetEnv(from: VarSource, env: TenantEnv = tenantEnv(from.cluster)): TenantEnv {
  const same = platformVars(from).istio_revision_tag === env.revisionTag;
  return same ? { ...env, revisionTag: fluxVar('istio_revision_tag') } : env;
}

/** What add-tenant/remove-tenant did (or, in a dry run, would do). */
export interface TenantReport {
  cluster: string;
  tenants: string[];
  dryRun: boolean;
  fleet: { commit?: string; committed: boolean; changed: string[] };
  gateway: { name: string; changed: boolean };
  /** The tenants' deploy keys (public halves): made by this run (`created`) or found. */
  keys: TenantKey[];
  live?: { applied: number; deleted: number; unchanged: number; unserved: string[] };
  stateWrites: number;
}

/** Options shared by add and remove. */
export interface TenantRunOptions extends TenantStateIo {
  /** Also change the cluster at once (server-side apply / delete). */
  apply?: boolean;
}

/**
 * Adds (or updates) a batch of tenants: validates against state and cluster, records the intent, commits the
 * fleet files once, binds the hosts to the Gateway once, with `apply` applies the objects, records the commit.
 */
export async function addTenants(
  ctx: StepContext,
  specs: readonly TenantSpec[],
  o: TenantRunOptions,
): Promise<TenantReport> {
  const names = specs.map((s) => s.name);
  const kube = await ctx.kube();
  const records = tenantRecords(o.state);
  const gwRef = gatewayRef(ctx.cluster);
  const needGateway = specs.some((s) => s.hosts.length > 0 || (records[s.name]?.hosts.length ?? 0) > 0);
  const [liveNamespaces, gateway] = await Promise.all([
    kube.list('v1', 'Namespace'),
    needGateway ? readGateway(kube, gwRef) : Promise.resolve(undefined),
  ]);
  const others = Object.fromEntries(Object.entries(records).filter(([n]) => !names.includes(n)));
  const servers = gateway?.spec?.servers ?? [];
  assertNoConflicts(specs, collectClaims(others, liveNamespaces, gateway && { name: gatewayLabel(gwRef), servers }));
  const withHosts = specs.filter((s) => s.hosts.length > 0).map((s) => s.name);
  if (!gateway && withHosts.length > 0) throw missingGateway(gwRef, withHosts);

  // Dropping a namespace deletes it (Flux prunes it even without --apply): ask before anything is written.
  const dropped = specs.flatMap((s) => (records[s.name]?.namespaces ?? []).filter((n) => !s.namespaces.includes(n)));
  if (dropped.length > 0 && !ctx.dryRun) {
    const ok = await ctx.prompt.confirm(`delete namespace(s) ${dropped.join(', ')} and everything in them?`);
    if (!ok) throw new PlatctlError('ABORTED', `namespace(s) ${dropped.join(', ')} kept: nothing changed`);
  }

  // Tenants removed without --apply that Flux still holds: added back only once Flux has applied the removal.
  // Their namespaces are gone then: the keys below must not count on the list read above.
  const waited = await waitForPendingRemovals(
    ctx,
    names.filter((n) => !records[n]),
  );

  const env = tenantEnv(ctx.cluster);
  const manifests = new Map(specs.map((s) => [s.name, tenantManifests(s, env)]));
  const layout = specs.map((s) => tenantFiles(s.name, tenantManifests(s, tenantFleetEnv(ctx, env))));
  const files = layout.flatMap((l) => l.files);
  const remove = layout.flatMap((l) => l.remove);
  files.push(tenantsIndexFile(ctx.cluster, [...Object.keys(records), ...names]));
  const report: TenantReport = {
    cluster: ctx.cluster.name,
    tenants: names,
    dryRun: ctx.dryRun,
    fleet: { committed: false, changed: [] },
    gateway: { name: gatewayLabel(gwRef), changed: false },
    keys: [],
    stateWrites: 0,
  };

  // The intent first: a run killed after the push still knows the tenant (tenants.yaml is built from state).
  const intent = specs.filter((s) => !sameJson(records[s.name], recordOf(s, records[s.name]?.commit ?? '')));
  if (intent.length > 0 && !ctx.dryRun) {
    await saveRecords(o, Object.fromEntries(intent.map((s) => [s.name, recordOf(s, records[s.name]?.commit ?? '')])));
    report.stateWrites++;
  }
  // Each tenant's own read-only git credentials, in place before Flux sees the GitRepository that uses them.
  report.keys = await ensureTenantKeys(ctx, specs, (s) => manifests.get(s.name)!.namespaces[0]!, {
    namespaces: waited ? await kube.list('v1', 'Namespace') : liveNamespaces,
  });
  showNewKeys(ctx.log, ctx.cluster.name, report.keys, ctx.dryRun);
  ctx.log.action(`writing ${names.length} tenant(s) to ${ctx.cluster.fleet.url} (${ctx.cluster.fleet.branch})`);
  const label = names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
  const fleet = await syncTenantFleet(
    files,
    remove,
    fleetSync(ctx, `platctl: add tenant ${label} on cluster ${ctx.cluster.name}`),
  );
  report.fleet = { commit: fleet.sha, committed: fleet.committed, changed: fleet.changed };
  if (fleet.committed) ctx.log.created(`pushed ${fleet.changed.length} file(s) at ${fleet.sha}`);
  else
    ctx.log.info(
      ctx.dryRun ? `fleet: ${fleet.changed.length} file(s) would change` : 'fleet repo up to date: no commit',
    );
  crashPoint('add-tenant', 'after-push');
  // With --apply the objects go in first and Flux is asked afterwards: its root sync then finds them in place,
  // and kustomize-controller's queue holds the tenants' own Kustomizations before the 'tenant-<t>' ones that
  // only confirm what was applied (100 of those first held 100 tenants back by a minute and more).
  const askFlux = fleet.committed ? () => askFluxToFetch(ctx, fleet.sha) : async () => {};
  if (!o.apply) await askFlux();

  if (needGateway) {
    const want = new Map(specs.map((s) => [s.name, gatewayServers(s)]));
    report.gateway.changed = await bindGateway(kube, gwRef, want, { current: gateway, dryRun: ctx.dryRun });
    if (report.gateway.changed) ctx.log.created(`Gateway ${report.gateway.name}: servers of ${label} bound`);
  }
  if (o.apply) {
    report.live = await applyLive(
      ctx,
      names,
      specs.flatMap((s) => allObjects(manifests.get(s.name)!)),
    );
    await askFlux();
  }

  const commits: Record<string, TenantRecord> = {};
  for (const s of specs) {
    const old = tenantRecords(o.state)[s.name]?.commit;
    const touched = fleet.changed.some((p) => p.startsWith(`${tenantDir(s.name)}/`)) || intent.includes(s);
    const commit = fleet.committed && touched ? fleet.sha : old || fleet.sha;
    if (commit && commit !== old) commits[s.name] = recordOf(s, commit);
  }
  if (Object.keys(commits).length > 0 && !ctx.dryRun) {
    await saveRecords(o, commits);
    report.stateWrites++;
  }
  return report;
}

/** `--apply`: diff and apply (deleting what platctl made for these tenants and no longer wants). */
async function applyLive(ctx: StepContext, names: readonly string[], desired: Parameters<typeof planLive>[2]) {
  const kube = await ctx.kube();
  // flux-system/tenant-<t> comes from the fleet's tenants.yaml through Flux: never pruned by add-tenant.
  const plan = await planLive(kube, names, desired, (x) => x.metadata.namespace === 'flux-system');
  for (const u of plan.unserved)
    ctx.log.warning(`the cluster does not serve ${u}: left to Flux (install cert-manager)`);
  if (!ctx.dryRun) await runPlan(kube, plan, { progress: ctx.progress });
  if (plan.apply.length > 0)
    ctx.log.created(`${ctx.dryRun ? 'would apply' : 'applied'} ${plan.apply.length} object(s)`);
  else ctx.log.info(`cluster up to date: ${plan.unchanged} tenant object(s) unchanged`);
  return { applied: plan.apply.length, deleted: plan.prune.length, unchanged: plan.unchanged, unserved: plan.unserved };
}

/**
 * Removes a tenant: its files and reference from the fleet repo, its Gateway servers, with `apply` every
 * object it has in the cluster (namespaces waited until gone), then its record.
 */
export async function removeTenant(ctx: StepContext, name: string, o: TenantRunOptions): Promise<TenantReport> {
  assertLabel('tenant name', name);
  const kube = await ctx.kube();
  const records = tenantRecords(o.state);
  const record = records[name];
  const live = await kube.list('v1', 'Namespace', { labelSelector: `${TENANT_LABEL}=${name}` });
  const namespaces = [...new Set([...(record?.namespaces ?? []), ...live.map((n) => n.metadata.name)])];
  if (!ctx.dryRun && (record || live.length > 0)) {
    const what =
      o.apply && namespaces.length > 0
        ? ` and delete namespace(s) ${namespaces.join(', ')} with everything in them`
        : '';
    if (!(await ctx.prompt.confirm(`remove tenant ${name} from cluster ${ctx.cluster.name}${what}?`))) {
      throw new PlatctlError('ABORTED', `tenant ${name} not removed`);
    }
  }
  const gwRef = gatewayRef(ctx.cluster);
  const report: TenantReport = {
    cluster: ctx.cluster.name,
    tenants: [name],
    dryRun: ctx.dryRun,
    fleet: { committed: false, changed: [] },
    gateway: { name: gatewayLabel(gwRef), changed: false },
    keys: [],
    stateWrites: 0,
  };
  const remaining = Object.keys(records).filter((n) => n !== name);
  const fleet = await syncTenantFleet(
    [tenantsIndexFile(ctx.cluster, remaining)],
    [tenantDir(name)],
    fleetSync(ctx, `platctl: remove tenant ${name} from cluster ${ctx.cluster.name}`),
  );
  report.fleet = { commit: fleet.sha, committed: fleet.committed, changed: fleet.changed };
  if (fleet.committed) ctx.log.created(`removed tenant ${name} from the fleet repo at ${fleet.sha}`);
  crashPoint('remove-tenant', 'after-push');
  const requested = fleet.committed ? await askFluxToFetch(ctx, fleet.sha) : undefined;
  report.gateway.changed = await bindGateway(kube, gwRef, new Map([[name, []]]), { dryRun: ctx.dryRun });
  if (report.gateway.changed) ctx.log.success(`Gateway ${report.gateway.name}: servers of ${name} removed`);
  if (o.apply) {
    if (requested && fleet.revision && !ctx.dryRun) await waitForFluxRemoval(ctx, name, fleet.revision, requested);
    const plan = await planLive(kube, [name], []);
    if (!ctx.dryRun && plan.prune.length > 0) {
      ctx.log.waiting(`deleting ${plan.prune.length} object(s) of tenant ${name}`);
      await runPlan(kube, plan, { progress: ctx.progress });
    }
    report.live = { applied: 0, deleted: plan.prune.length, unchanged: 0, unserved: plan.unserved };
  }
  if (record && !ctx.dryRun) {
    await saveRecords(o, { [name]: undefined });
    report.stateWrites++;
  }
  return report;
}
