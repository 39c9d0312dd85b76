/**
 * The narrow Kubernetes interface steps use, and its implementation over platctl's own HTTPS transport
 * (kube-transport.ts, the kubeconfig read by kubeconfig-auth.ts), so platctl controls exactly how many requests
 * it makes, and loads no Kubernetes library to make them.
 */
import { isPlatctlError, PlatctlError } from '../errors.js';
import { type PodForwarder, podForwarder } from './kube-portforward.js';
import { collectionPath, knownResource, type ResourceInfo } from './kube-resources.js';
import type { KubeTarget } from './kube-target.js';
import type { KubeTransport } from './kube-transport.js';

/** The minimum shape of a Kubernetes object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** Names one object. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** What steps may do to the cluster. Tests swap this for a fake. */
export interface KubeClient {
  /** The API server URL, for messages. */
  readonly server: string;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    opts?: { namespace?: string; labelSelector?: string },
  ): Promise<T[]>;
  create<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T>;
  /** Replaces an object; with metadata.resourceVersion set, a stale write fails with code KUBE_CONFLICT. */
  replace<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T>;
  /** Server-side apply with field manager "platctl". */
  apply<T extends KubeObject = KubeObject>(obj: KubeObject, opts?: { force?: boolean }): Promise<T>;
  /** Merge-patches an object (or its status subresource). */
  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: unknown, opts?: { subresource?: string }): Promise<T>;
  /** Deletes an object; false when it was already gone. */
  delete(ref: ObjectRef, opts?: { propagation?: 'Foreground' | 'Background' | 'Orphan' }): Promise<boolean>;
  /** Streams local connections to a pod's port (a port-forward); absent where the transport cannot (fakes). */
  readonly forwarder?: PodForwarder;
}

/** A Kubernetes API error carrying the HTTP status. */
export function kubeError(status: number, what: string, body: string): PlatctlError {
  let message = body.slice(0, 300);
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? message;
  } catch {
    // not JSON: keep the raw text
  }
  const code = status === 409 ? 'KUBE_CONFLICT' : 'KUBE_API';
  const err = new PlatctlError(code, `${what}: ${status} ${message}`);
  return Object.assign(err, { status });
}

const statusOf = (err: unknown) => (isPlatctlError(err) ? (err as { status?: number }).status : undefined);

/** True for "not found": the object, or its kind (a CRD not installed, an API group not served), is not there. */
export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/** True for a conflict: a write based on a stale resourceVersion, or a create of an object that exists. */
export function isConflict(err: unknown): boolean {
  return isPlatctlError(err) && (err.code === 'KUBE_CONFLICT' || statusOf(err) === 409);
}

/**
 * Optimistic concurrency: runs `attempt` (1, 2, …) until it does not fail with a conflict, at most `attempts`
 * times. Each attempt must read what it changes afresh. Any other error passes straight through; after the last
 * conflict, `exhausted` makes the error to throw (default: that conflict).
 */
export async function retryOnConflict<T>(
  attempt: (n: number) => Promise<T>,
  o: { attempts: number; exhausted?: (last: unknown) => Error },
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!isConflict(err)) throw err;
      if (n >= o.attempts) throw o.exhausted ? o.exhausted(err) : err;
    }
  }
}

/**
 * Retries HTTP 429: the API server answers it while it is busy, and for a few seconds after a new CRD is
 * created ("storage is (re)initializing"). Anything else is returned as is.
 */
function retrying429(t: KubeTransport, attempts = 20, delayMs = 500): KubeTransport {
  return {
    server: t.server,
    async request(method, path, body, contentType) {
      for (let i = 1; ; i++) {
        const res = await t.request(method, path, body, contentType);
        if (res.status !== 429 || i >= attempts) return res;
        await new Promise((r) => setTimeout(r, delayMs));
      }
    },
  };
}

/** The reference (apiVersion, kind, namespace, name) of an object. */
export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  namespace: o.metadata.namespace,
});

/** "Kind namespace/name", or "Kind name" when cluster-scoped: how messages name an object. */
export const refLabel = (r: ObjectRef): string => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

/** {@link refLabel} of an object. */
export const objectLabel = (o: KubeObject): string => refLabel(refOf(o));

/** Builds a {@link KubeClient} over a transport. */
export function kubeClientOver(transport: KubeTransport): KubeClient {
  const t = retrying429(transport);
  const discovered = new Map<string, Record<string, ResourceInfo>>();
  const resolve = async (apiVersion: string, kind: string): Promise<ResourceInfo> => {
    const hit = knownResource(apiVersion, kind) ?? discovered.get(apiVersion)?.[kind];
    if (hit) return hit;
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const res = await t.request('GET', base);
    if (res.status !== 200) throw kubeError(res.status, `discover ${apiVersion}`, res.body);
    const list = JSON.parse(res.body) as { resources: { name: string; kind: string; namespaced: boolean }[] };
    const map: Record<string, ResourceInfo> = {};
    for (const r of list.resources)
      if (!r.name.includes('/')) map[r.kind] = { plural: r.name, namespaced: r.namespaced };
    discovered.set(apiVersion, map);
    const found = map[kind];
    if (!found) {
      const err = new PlatctlError('KUBE_API', `the API server does not serve ${kind} in ${apiVersion}`);
      throw Object.assign(err, { status: 404 });
    }
    return found;
  };
  const itemPath = async (ref: ObjectRef) => {
    const info = await resolve(ref.apiVersion, ref.kind);
    return `${collectionPath(ref.apiVersion, info, ref.namespace)}/${encodeURIComponent(ref.name)}`;
  };
  const expect = async <T>(
    what: string,
    call: Promise<{ status: number; body: string }>,
    ok: number[] = [200, 201],
  ): Promise<T> => {
    const res = await call;
    if (!ok.includes(res.status)) throw kubeError(res.status, what, res.body);
    return JSON.parse(res.body) as T;
  };

  const open = transport.openChannel?.bind(transport);
  return {
    server: t.server,
    ...(open ? { forwarder: podForwarder(open) } : {}),
    async get<T extends KubeObject>(ref: ObjectRef) {
      const res = await t.request('GET', await itemPath(ref));
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw kubeError(res.status, `read ${refLabel(ref)}`, res.body);
      return JSON.parse(res.body) as T;
    },
    async list<T extends KubeObject>(
      apiVersion: string,
      kind: string,
      opts: { namespace?: string; labelSelector?: string } = {},
    ) {
      const info = await resolve(apiVersion, kind);
      const q = opts.labelSelector ? `?labelSelector=${encodeURIComponent(opts.labelSelector)}` : '';
      const res = await t.request('GET', collectionPath(apiVersion, info, opts.namespace) + q);
      if (res.status === 404) return [];
      if (res.status !== 200) throw kubeError(res.status, `list ${kind}`, res.body);
      const items = (JSON.parse(res.body) as { items: T[] }).items;
      return items.map((i) => ({ ...i, apiVersion, kind }));
    },
    async create<T extends KubeObject>(obj: KubeObject) {
      const info = await resolve(obj.apiVersion, obj.kind);
      const p = collectionPath(obj.apiVersion, info, obj.metadata.namespace);
      return expect<T>(`create ${refLabel(refOf(obj))}`, t.request('POST', p, obj));
    },
    async replace<T extends KubeObject>(obj: KubeObject) {
      return expect<T>(`replace ${refLabel(refOf(obj))}`, t.request('PUT', await itemPath(refOf(obj)), obj));
    },
    async apply<T extends KubeObject>(obj: KubeObject, opts: { force?: boolean } = {}) {
      const p = `${await itemPath(refOf(obj))}?fieldManager=platctl${opts.force ? '&force=true' : ''}`;
      return expect<T>(`apply ${refLabel(refOf(obj))}`, t.request('PATCH', p, obj, 'application/apply-patch+yaml'));
    },
    async patch<T extends KubeObject>(ref: ObjectRef, body: unknown, opts: { subresource?: string } = {}) {
      const p = (await itemPath(ref)) + (opts.subresource ? `/${opts.subresource}` : '');
      return expect<T>(`patch ${refLabel(ref)}`, t.request('PATCH', p, body, 'application/merge-patch+json'));
    },
    async delete(ref: ObjectRef, opts: { propagation?: 'Foreground' | 'Background' | 'Orphan' } = {}) {
      const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: opts.propagation ?? 'Background' };
      const res = await t.request('DELETE', await itemPath(ref), body);
      if (res.status === 404) return false;
      if (res.status !== 200 && res.status !== 202) throw kubeError(res.status, `delete ${refLabel(ref)}`, res.body);
      return true;
    },
  };
}

/** Connects to a cluster from a kubeconfig (the transport is imported here, lazily, not at start-up). */
export async function connectKube(target: KubeTarget = {}): Promise<KubeClient> {
  const { httpsTransport } = await import('./kube-transport.js');
  return kubeClientOver(await httpsTransport(target));
}
