/**
 * CustomResourceDefinitions that really go when deleted.
 *
 * Before the API server lets a CRD go, its CRD finalizer lists the kind's objects. Since Kubernetes 1.34
 * (ResilientWatchCacheInitialization, locked on) a list of a kind whose watch cache is not ready is refused with
 * 429 "storage is (re)initializing": a CRD nobody has read since it was made has no cache until that list asks for
 * one. The finalizer then retries with backoff, and a retry that reads its own status write stale gives up until the
 * API server's five-minute resync. Meanwhile the CRD sits Terminating with reason InstanceDeletionFailed.
 *
 * So platctl lists the kind before it deletes a CRD; the client retries 429 until the cache is ready, and the
 * finalizer's list then succeeds the first time. A CRD found waiting with InstanceDeletionFailed (deleted by
 * someone else, or a cache rebuilt meanwhile) is listed again and touched with an annotation: the update queues the
 * finalizer again. docs/lab.md shows the refused list in the lab's API server log.
 */
import { type KubeClient, type KubeObject, type ObjectRef, refOf } from './kube.js';

/** The CRD API. */
export const CRD_API_VERSION = 'apiextensions.k8s.io/v1';

/** Annotation a stalled CRD deletion is touched with (its value: when). */
export const FINALIZE_RETRY_ANNOTATION = 'platctl.io/finalize-retry';

/** What platctl reads of a CRD. */
export type Crd = KubeObject & {
  spec: { group: string; names: { kind: string }; versions: { name: string; storage?: boolean }[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};

/** True when the reference or object is a CustomResourceDefinition. */
export const isCrd = (r: { kind: string }): boolean => r.kind === 'CustomResourceDefinition';

/** The apiVersion and kind a CRD serves at its storage version; undefined when the object has no usable spec. */
export function crdKind(crd: KubeObject): { apiVersion: string; kind: string } | undefined {
  const spec = (crd as Partial<Crd>).spec;
  const version = spec?.versions?.find((v) => v.storage) ?? spec?.versions?.[0];
  if (!spec?.group || !spec.names?.kind || !version) return undefined;
  return { apiVersion: `${spec.group}/${version.name}`, kind: spec.names.kind };
}

/** The CRD's Terminating condition when true ("Terminating: <message>"), for errors about a CRD that stays. */
export function crdBlockers(crd: KubeObject): string[] {
  const c = (crd as Crd).status?.conditions?.find((x) => x.type === 'Terminating' && x.status === 'True');
  return c?.message ? [`Terminating: ${c.message}`] : [];
}

/** True when the CRD finalizer gave up for now: Terminating with reason InstanceDeletionFailed. */
export function finalizerStalled(crd: KubeObject): boolean {
  const c = (crd as Crd).status?.conditions?.find((x) => x.type === 'Terminating');
  return c?.status === 'True' && c.reason === 'InstanceDeletionFailed';
}

/**
 * Lists the CRD's kind in every namespace, so the API server builds (or finishes rebuilding) its watch cache; the
 * client retries 429 while it is not ready. Without a `limit` on purpose: a limited list of a cold cache is served
 * from etcd and warms nothing. Best effort: false when the list failed (a kind no longer served, no RBAC to list
 * it, still refused after the client's retries); the wait after the delete names a CRD that then stays.
 */
export async function warmCrd(kube: KubeClient, crd: KubeObject): Promise<boolean> {
  const k = crdKind(crd);
  if (!k) return false;
  return kube.list(k.apiVersion, k.kind).then(
    () => true,
    () => false,
  );
}

/** Warms the CRD's cache, then deletes it; false when it was already gone. */
export async function deleteCrd(kube: KubeClient, crd: KubeObject): Promise<boolean> {
  await warmCrd(kube, crd);
  return kube.delete(refOf(crd));
}

/**
 * Queues the CRD finalizer again: warms the cache its list needs, then touches an annotation (an update the
 * finalizer does not filter out). Best effort, like the warming: a CRD gone meanwhile or a refused write leaves the
 * wait to go on, and to name the CRD if it stays.
 */
export async function nudgeCrd(kube: KubeClient, crd: KubeObject): Promise<void> {
  await warmCrd(kube, crd);
  const ref: ObjectRef = { ...refOf(crd), apiVersion: CRD_API_VERSION, kind: 'CustomResourceDefinition' };
  const patch = { metadata: { annotations: { [FINALIZE_RETRY_ANNOTATION]: new Date().toISOString() } } };
  await kube.patch(ref, patch).catch(() => undefined);
}
