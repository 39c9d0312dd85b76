/**
 * Before teardown destroys anything, the in-cluster objects that own cloud resources go first, and teardown
 * waits for the cloud side to follow. A load balancer a Service or Ingress made keeps its security groups and
 * network interfaces in the VPC, so deleting the cluster first leaves them behind and the VPC cannot be
 * deleted (eksctl issues #103 and #7548). Flux is suspended first so that nothing is re-created meanwhile.
 */
import type { AwsClients } from '../clients/aws.js';
import { isNotFound, type KubeClient, type KubeObject, objectLabel as label, refOf } from '../clients/kube.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError, wrapError } from '../errors.js';
import type { Logger } from '../log.js';
import { crashPoint } from '../test-seams.js';
import { type ClusterLoadBalancer, clusterLeftovers, clusterLoadBalancers, type Leftover } from './cloud.js';

export type { ClusterLoadBalancer, Leftover } from './cloud.js';

/** The teardown phase this preparation is (src/teardown/phases.ts), as state and history name it. */
export const PREPARE_PHASE = 'teardown-prepare';

/** What {@link prepareTeardown} needs: a subset of the step context. */
export interface PrepareContext {
  kube: () => Promise<KubeClient>;
  aws: AwsClients;
  cluster: ClusterConfig;
  log: Logger;
  progress?: (m: string) => void;
  dryRun: boolean;
}

/** What the preparation did (or, in a dry run, would do). Objects are named `Kind namespace/name`. */
export interface PrepareReport {
  dryRun: boolean;
  /** Flux objects suspended now (dry run: that would be). */
  suspended: string[];
  /** Flux objects that were suspended already. */
  alreadySuspended: string[];
  /** LoadBalancer Services and Ingresses deleted (dry run: that would be). */
  deleted: string[];
  /** Cloud load balancers tagged for the cluster that were waited for (dry run: found now). */
  loadBalancers: ClusterLoadBalancer[];
  /** Security groups and network interfaces still tagged for the cluster: warnings, not failures. */
  leftovers: Leftover[];
  /** Time spent waiting for the deletions. */
  waitedMs: number;
}

/** Options for {@link prepareTeardown}. */
export interface PrepareOptions {
  /** How long to wait for Services, Ingresses and load balancers to go (default 10 minutes). */
  timeoutMs?: number;
  /** Time between polls (default 5 s). */
  pollMs?: number;
  /**
   * How long load balancers may outlive the last Service/Ingress (default 60 s). The controllers drop their
   * finalizers only after deleting the load balancer, so one still there after that has leaked: nothing in the
   * cluster will delete it, and waiting out the whole timeout would only delay the error.
   */
  leakGraceMs?: number;
}

/** The Flux kinds that re-create what teardown deletes, at the API versions Flux v2 serves. */
export const FLUX_KINDS = [
  { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' },
  { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease' },
] as const;

const SERVICE = { apiVersion: 'v1', kind: 'Service' } as const;
const INGRESS = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' } as const;

/** Lists a kind in every namespace; a 404 (its CRD is not installed) is an empty list. */
async function listAll(kube: KubeClient, apiVersion: string, kind: string): Promise<KubeObject[]> {
  try {
    return await kube.list(apiVersion, kind);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw wrapError('KUBE_API', `cannot list ${kind} (${apiVersion}) in ${kube.server}`, err);
  }
}

/** Services of type LoadBalancer and every Ingress: the objects whose controllers make cloud load balancers. */
async function cloudOwners(kube: KubeClient): Promise<KubeObject[]> {
  const [services, ingresses] = await Promise.all([
    listAll(kube, SERVICE.apiVersion, SERVICE.kind),
    listAll(kube, INGRESS.apiVersion, INGRESS.kind),
  ]);
  const lbs = services.filter((s) => (s.spec as { type?: string } | undefined)?.type === 'LoadBalancer');
  return [...lbs, ...ingresses];
}

/** Sets spec.suspend on every Kustomization and HelmRelease, so Flux re-creates nothing while teardown runs. */
async function suspendFlux(kube: KubeClient, ctx: PrepareContext, report: PrepareReport): Promise<void> {
  for (const { apiVersion, kind } of FLUX_KINDS) {
    for (const obj of await listAll(kube, apiVersion, kind)) {
      if ((obj.spec as { suspend?: boolean } | undefined)?.suspend === true) {
        report.alreadySuspended.push(label(obj));
        continue;
      }
      report.suspended.push(label(obj));
      if (ctx.dryRun) continue;
      try {
        await kube.patch(refOf(obj), { spec: { suspend: true } });
        ctx.log.success(`suspended ${label(obj)}`);
      } catch (err) {
        if (!isNotFound(err)) throw wrapError('KUBE_API', `cannot suspend ${label(obj)}`, err);
      }
    }
  }
}

/** Deletes one object; gone already is fine. */
async function deleteObject(kube: KubeClient, obj: KubeObject): Promise<void> {
  try {
    await kube.delete(refOf(obj));
  } catch (err) {
    if (!isNotFound(err)) throw wrapError('KUBE_API', `cannot delete ${label(obj)}`, err);
  }
}

const describeObject = (o: KubeObject) => {
  const finalizers = (o.metadata.finalizers as string[] | undefined) ?? [];
  return finalizers.length ? `${label(o)} (finalizers: ${finalizers.join(', ')})` : label(o);
};
const describeLb = (lb: ClusterLoadBalancer) => `load balancer ${lb.name} (${lb.arn}, tagged ${lb.tag})`;
const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/**
 * Polls until no LoadBalancer Service, no Ingress and no cloud load balancer tagged for the cluster is left.
 * An object that reappears without a deletion timestamp was re-created by some controller: it is deleted again.
 */
async function waitForDeletions(kube: KubeClient, ctx: PrepareContext, report: PrepareReport, opts: PrepareOptions) {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const pollMs = opts.pollMs ?? 5_000;
  const leakGraceMs = opts.leakGraceMs ?? 60_000;
  let ownersGoneAt: number | undefined;
  const started = Date.now();
  const seen = new Map<string, ClusterLoadBalancer>(report.loadBalancers.map((lb) => [lb.arn, lb]));
  ctx.log.waiting(`waiting for the cloud load balancers of ${ctx.cluster.name} to be deleted`);
  for (;;) {
    const [objects, lbs] = await Promise.all([cloudOwners(kube), clusterLoadBalancers(ctx.aws, ctx.cluster.name)]);
    for (const lb of lbs) seen.set(lb.arn, lb);
    for (const obj of objects.filter((o) => !o.metadata.deletionTimestamp)) {
      ctx.log.warning(`${label(obj)} is back (re-created by a controller?): deleting it again`);
      if (!report.deleted.includes(label(obj))) report.deleted.push(label(obj));
      await deleteObject(kube, obj);
    }
    const elapsed = Date.now() - started;
    if (objects.length === 0 && lbs.length === 0) {
      report.waitedMs = elapsed;
      report.loadBalancers = [...seen.values()];
      return;
    }
    const remaining = [...objects.map(describeObject), ...lbs.map(describeLb)];
    ownersGoneAt = objects.length === 0 ? (ownersGoneAt ?? Date.now()) : undefined;
    if (ownersGoneAt !== undefined && Date.now() - ownersGoneAt >= leakGraceMs) {
      throw new PlatctlError(
        'LOAD_BALANCERS_LEFT',
        `no Service or Ingress of cluster ${ctx.cluster.name} is left, but these load balancers still are: ${remaining.join('; ')}`,
        {
          hint: 'nothing in the cluster will delete them any more: delete them in AWS (and their security groups), then run teardown again',
        },
      );
    }
    if (elapsed >= timeoutMs) {
      throw new PlatctlError(
        'LOAD_BALANCER_WAIT_TIMEOUT',
        `timed out after ${seconds(elapsed)} waiting for cloud load balancers of cluster ${ctx.cluster.name} to be deleted; still there: ${remaining.join('; ')}`,
        {
          hint:
            'the AWS Load Balancer Controller (or the cloud provider) deletes these and then drops the finalizers: check it is still running ' +
            '(kubectl -n kube-system logs deploy/aws-load-balancer-controller). If it is gone, delete the load balancers in AWS, remove the ' +
            'finalizers from the objects, then run teardown again',
        },
      );
    }
    const counts = [
      objects.length ? `${objects.length} Service/Ingress object(s)` : '',
      lbs.length ? `${lbs.length} load balancer(s)` : '',
    ].filter(Boolean);
    ctx.progress?.(`waiting for ${counts.join(' and ')} to be deleted (${seconds(elapsed)})`);
    // Fault injection: a kill here leaves the phase recorded running; the next teardown waits on from here.
    crashPoint(PREPARE_PHASE, 'waiting');
    ctx.log.debug(`still there: ${remaining.join('; ')}`);
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, timeoutMs - elapsed))));
  }
}

/**
 * Prepares a cluster for teardown: (1) suspends every Flux Kustomization and HelmRelease; (2) deletes every
 * Service of type LoadBalancer and every Ingress; (3) waits until they are gone and ELBv2/ELB show no load
 * balancer tagged for the cluster; (4) reports the security groups and network interfaces still tagged for it.
 * In a dry run it only lists (1), (2) and the load balancers and leftovers there are now, and writes nothing.
 * Missing Flux CRDs mean nothing to suspend. A wait past `timeoutMs` throws STEP_FAILED naming what is left.
 */
export async function prepareTeardown(ctx: PrepareContext, opts: PrepareOptions = {}): Promise<PrepareReport> {
  const kube = await ctx.kube();
  const report: PrepareReport = {
    dryRun: ctx.dryRun,
    suspended: [],
    alreadySuspended: [],
    deleted: [],
    loadBalancers: [],
    leftovers: [],
    waitedMs: 0,
  };
  ctx.progress?.('suspending Flux');
  await suspendFlux(kube, ctx, report);
  const owners = await cloudOwners(kube);
  report.deleted = owners.map(label);
  report.loadBalancers = await clusterLoadBalancers(ctx.aws, ctx.cluster.name);
  if (ctx.dryRun) {
    report.leftovers = await clusterLeftovers(ctx.aws, ctx.cluster.name);
    return report;
  }
  ctx.progress?.('deleting LoadBalancer Services and Ingresses');
  for (const obj of owners) {
    await deleteObject(kube, obj);
    ctx.log.action(`deleted ${label(obj)}`);
  }
  if (owners.length > 0 || report.loadBalancers.length > 0) await waitForDeletions(kube, ctx, report, opts);
  report.leftovers = await clusterLeftovers(ctx.aws, ctx.cluster.name);
  for (const l of report.leftovers) {
    ctx.log.warning(`${l.type} ${l.id}${l.name ? ` (${l.name})` : ''} is still tagged ${l.tag}: delete it by hand`);
  }
  ctx.log.success(`no cloud load balancer of ${ctx.cluster.name} is left`);
  return report;
}
