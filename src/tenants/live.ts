/**
 * `--apply`: the tenant objects straight into the cluster, as a diff. One labelled list per kind finds what
 * platctl made for the tenants at hand (`toolkit.fluxcd.io/tenant in (…)`, `app.kubernetes.io/managed-by=
 * platctl`); objects that already hold every wanted field are left alone (a re-run writes nothing), the rest
 * are server-side applied with bounded concurrency, and labelled objects no longer wanted are deleted (Flux
 * objects first, namespaces last, waited until gone). Requests: one list per kind per batch + one per change.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { concurrencyFromEnv, mapLimit } from '../aws/parallel.js';
import { isNotFound, type KubeClient, type KubeObject, type ObjectRef } from '../clients/kube.js';
import { PlatctlError, wrapError } from '../errors.js';
import { MANAGED_LABEL, TENANT_LABEL } from './manifests.js';

/** The kinds a tenant is made of; `optional` ones may not be served (cert-manager absent). */
export const TENANT_KINDS = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'v1', kind: 'ResourceQuota' },
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository' },
  { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' },
  { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', optional: true },
] as const;

const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : v;

/** Deep equality that ignores key order (the API server re-orders keys). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

const units: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};
const quantityValue = (s: string): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(s);
  return m ? Number(m[1]) * (m[2] ? (units[m[2]] ?? 1) : 1) : undefined;
};

/** True when `live` holds every field of `want` (extra live fields, defaults and labels are fine). */
export function covers(live: unknown, want: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(live) && live.length === want.length && want.every((w, i) => covers(live[i], w));
  }
  if (want && typeof want === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return false;
    return Object.entries(want).every(([k, w]) => covers((live as Record<string, unknown>)[k], w));
  }
  if (typeof want === 'string' && typeof live === 'string' && want !== live) {
    // The API server canonicalises quantities (1024Mi → 1Gi, 0.5 → 500m).
    const a = quantityValue(want);
    return a !== undefined && a === quantityValue(live);
  }
  return live === want;
}

const keyOf = (o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }) =>
  `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  namespace: o.metadata.namespace,
});
/** `Kind ns/name`, for messages. */
export const objectLabel = (o: KubeObject) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** What `--apply` would do. */
export interface LivePlan {
  apply: KubeObject[];
  prune: KubeObject[];
  unchanged: number;
  /** Optional kinds the cluster does not serve: wanted objects of those kinds are left to Flux. */
  unserved: string[];
}

/**
 * Compares the wanted objects of `tenants` with what the cluster holds for them. Labelled objects that are not
 * wanted are pruned, except those `keep` accepts (add-tenant keeps the fleet's `flux-system/tenant-<t>`).
 */
export async function planLive(
  kube: KubeClient,
  tenants: readonly string[],
  desired: readonly KubeObject[],
  keep: (o: KubeObject) => boolean = () => false,
): Promise<LivePlan> {
  const selector = `${TENANT_LABEL} in (${[...tenants].sort().join(',')}),${MANAGED_LABEL}=platctl`;
  const live = new Map<string, KubeObject>();
  const unserved: string[] = [];
  await mapLimit(TENANT_KINDS, TENANT_KINDS.length, async (k) => {
    try {
      for (const o of await kube.list(k.apiVersion, k.kind, { labelSelector: selector })) live.set(keyOf(o), o);
    } catch (err) {
      if ('optional' in k && isNotFound(err)) unserved.push(`${k.apiVersion} ${k.kind}`);
      else throw err;
    }
  });
  const served = (o: KubeObject) => !unserved.includes(`${o.apiVersion} ${o.kind}`);
  const wanted = new Set(desired.map(keyOf));
  const apply = desired.filter((o) => served(o) && !covers(live.get(keyOf(o)), o));
  const prune = [...live.values()].filter((o) => !wanted.has(keyOf(o)) && !keep(o));
  return { apply, prune, unchanged: desired.filter(served).length - apply.length, unserved };
}

const FLUX = new Set(['Kustomization', 'GitRepository']);

/** Options for {@link runPlan}. */
export interface RunOptions {
  progress?: (m: string) => void;
  /** Requests in flight (default PLATCTL_KUBE_CONCURRENCY, else 16: the kube client's socket pool). */
  concurrency?: number;
  /** How long to wait for deleted namespaces and Flux objects to be gone (default 5 minutes). */
  timeoutMs?: number;
}

/**
 * The order objects are applied in, phase by phase (each phase finished before the next starts): namespaces
 * (everything else lives in them); the tenants' GitRepositories, so source-controller starts cloning while the
 * rest is applied; RBAC, quotas and policies; the Kustomizations last, so kustomize-controller never
 * impersonates a ServiceAccount whose RoleBinding is not there yet (a forbidden apply is retried with
 * exponential backoff, which would cost far more than the wait).
 */
export function applyPhases(objects: readonly KubeObject[]): KubeObject[][] {
  const rank = (o: KubeObject) =>
    o.kind === 'Namespace' ? 0 : o.kind === 'GitRepository' ? 1 : o.kind === 'Kustomization' ? 3 : 2;
  const phases: KubeObject[][] = [[], [], [], []];
  for (const o of objects) phases[rank(o)]!.push(o);
  return phases.filter((p) => p.length > 0);
}

/** Carries out a plan: applies (in {@link applyPhases}), then prunes (Flux objects, the rest, namespaces) and waits. */
export async function runPlan(kube: KubeClient, plan: LivePlan, o: RunOptions = {}): Promise<void> {
  const width = o.concurrency ?? concurrencyFromEnv('PLATCTL_KUBE_CONCURRENCY', 16);
  const apply = async (obj: KubeObject) => {
    await kube.apply(obj, { force: true }).catch((err: unknown) => {
      if (!isNotFound(err)) throw wrapError('KUBE_API', `cannot apply ${objectLabel(obj)}`, err);
      throw new PlatctlError(
        'KIND_NOT_SERVED',
        `cannot apply ${objectLabel(obj)}: the cluster does not serve ${obj.apiVersion} ${obj.kind}`,
        {
          cause: err,
          hint: 'Flux must be installed first (platctl bootstrap runs the flux step); add-tenant without --apply only writes the fleet repo',
        },
      );
    });
  };
  let done = 0;
  const tick = () => o.progress?.(`applied ${++done}/${plan.apply.length} tenant objects`);
  for (const phase of applyPhases(plan.apply)) {
    await mapLimit(phase, width, async (obj) => {
      await apply(obj);
      tick();
    });
  }
  if (plan.prune.length === 0) return;
  const gone = new Set(plan.prune.filter((x) => x.kind === 'Namespace').map((x) => x.metadata.name));
  const flux = plan.prune.filter((x) => FLUX.has(x.kind));
  // Flux objects first and waited for: their finalizers garbage-collect what they applied while the tenant's
  // ServiceAccount still exists.
  await mapLimit(flux, width, (x) => kube.delete(refOf(x)));
  await waitGone(kube, flux.filter((x) => x.kind === 'Kustomization').map(refOf), o);
  const rest = plan.prune.filter((x) => !FLUX.has(x.kind) && x.kind !== 'Namespace');
  await mapLimit(
    rest.filter((x) => !x.metadata.namespace || !gone.has(x.metadata.namespace)),
    width,
    (x) => kube.delete(refOf(x)),
  );
  const nsRefs = plan.prune.filter((x) => x.kind === 'Namespace').map(refOf);
  await mapLimit(nsRefs, width, (r) => kube.delete(r));
  await waitGone(kube, nsRefs, o);
}

/** Polls until every object is gone. */
export async function waitGone(kube: KubeClient, refs: readonly ObjectRef[], o: RunOptions = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 300_000);
  let pending = [...refs];
  while (pending.length > 0) {
    const still = await mapLimit(pending, o.concurrency ?? 16, async (r) => ((await kube.get(r)) ? r : undefined));
    pending = still.filter((r): r is ObjectRef => r !== undefined);
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      const names = pending.map((r) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`).join(', ');
      throw new PlatctlError(
        'KUBE_TIMEOUT',
        `still being deleted after ${Math.round((o.timeoutMs ?? 300_000) / 1000)}s: ${names}`,
        {
          hint: 'look for finalizers that nothing removes: kubectl get <kind> <name> -o yaml',
        },
      );
    }
    o.progress?.(`waiting for ${pending.length} object(s) to be deleted: ${pending.map((r) => r.name).join(', ')}`);
    await sleep(250);
  }
}
