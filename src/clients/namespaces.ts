/**
 * Namespaces (and CRDs) that are still terminating. A teardown (or `kubectl delete ns`) returns before the
 * namespace controller has emptied the namespace, and a terminating namespace refuses new objects. So every step
 * that creates a namespace first waits for an old one of the same name to be gone, and says so while it waits. A
 * CRD is deleted and waited for the same way, with the care crds.ts explains.
 */
import { PlatctlError } from '../errors.js';
import { crdBlockers, deleteCrd, finalizerStalled, isCrd, nudgeCrd } from './crds.js';
import { isConflict, type KubeClient, type KubeObject, type ObjectRef } from './kube.js';

/** How long platctl waits for a terminating namespace (or other object) by default. */
export const NAMESPACE_WAIT_MS = 180_000;

/** How often a CRD whose finalizer stalled is queued again (crds.ts). */
const NUDGE_EVERY_MS = 5_000;

interface NamespaceStatus {
  conditions?: { type: string; status: string; message?: string }[];
}

/** What a namespace is waiting for, from its status conditions (e.g. "Some content in the namespace has finalizers remaining"). */
function blockers(ns: KubeObject): string[] {
  const conditions = (ns as { status?: NamespaceStatus }).status?.conditions ?? [];
  return conditions.filter((c) => c.status === 'True' && c.message).map((c) => `${c.type}: ${c.message}`);
}

/** Options for {@link settleNamespace}. */
export interface SettleOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** Told once when the wait starts (log.waiting). */
  waiting?: (msg: string) => void;
}

/**
 * Returns the object if it exists and is not being deleted, or undefined once it is gone. While it is being
 * deleted it polls (queueing a stalled CRD finalizer again); after `timeoutMs` it fails naming what still holds it
 * (a namespace's conditions, a CRD's Terminating condition).
 */
export async function settle(
  kube: KubeClient,
  ref: ObjectRef,
  opts: SettleOptions = {},
): Promise<KubeObject | undefined> {
  const what = ref.kind === 'Namespace' ? `namespace ${ref.name}` : `${ref.kind} ${ref.name}`;
  const timeoutMs = opts.timeoutMs ?? NAMESPACE_WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  let told = false;
  let nudgeAt = 0;
  for (;;) {
    const obj = await kube.get(ref);
    if (!obj?.metadata.deletionTimestamp) return obj;
    if (isCrd(ref) && finalizerStalled(obj) && Date.now() >= nudgeAt) {
      await nudgeCrd(kube, obj);
      nudgeAt = Date.now() + NUDGE_EVERY_MS;
    }
    if (Date.now() >= deadline) {
      const why = ref.kind === 'Namespace' ? blockers(obj) : isCrd(ref) ? crdBlockers(obj) : [];
      throw new PlatctlError(
        'KUBE_TIMEOUT',
        `${what} is still being deleted after ${Math.round(timeoutMs / 1000)}s${why.length ? ` (${why.join('; ')})` : ''}`,
        {
          hint: `see what holds it: kubectl get ${ref.kind.toLowerCase()} ${ref.name} -o yaml; run again once it is gone`,
        },
      );
    }
    if (!told) opts.waiting?.(`${what} is being deleted: waiting until it is gone`);
    told = true;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
}

/** {@link settle} for a namespace. */
export function settleNamespace(
  kube: KubeClient,
  name: string,
  opts: SettleOptions = {},
): Promise<KubeObject | undefined> {
  return settle(kube, { apiVersion: 'v1', kind: 'Namespace', name }, opts);
}

/**
 * Deletes an object and waits until it is gone (a namespace until the cluster has emptied it, a CRD after its
 * kind's cache is warm), reporting the wait. One already being deleted (a killed teardown, resumed) is only waited
 * for. True when it was there.
 */
export async function deleteAndWait(kube: KubeClient, ref: ObjectRef, opts: SettleOptions = {}): Promise<boolean> {
  const obj = await kube.get(ref);
  if (!obj) return false;
  if (!obj.metadata.deletionTimestamp)
    await (isCrd(ref) ? deleteCrd(kube, { ...obj, apiVersion: ref.apiVersion, kind: ref.kind }) : kube.delete(ref));
  await settle(kube, ref, opts);
  return true;
}

/**
 * Creates a namespace unless it exists, after any terminating namespace of that name is gone. A namespace
 * created meanwhile by someone else counts as existing. Returns true when platctl created it.
 */
export async function createNamespace(
  kube: KubeClient,
  name: string,
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
  opts: SettleOptions = {},
): Promise<boolean> {
  if (await settleNamespace(kube, name, opts)) return false;
  try {
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...metadata } });
    return true;
  } catch (err) {
    if (isConflict(err)) return false;
    throw err;
  }
}

/** Settle options that report the wait on a step's logger (◎ namespace … is being deleted). */
export function waitFor(ctx: { log: { waiting(msg: string): void } }): SettleOptions {
  return { waiting: (msg) => ctx.log.waiting(msg) };
}
