/**
 * An in-memory {@link KubeClient} for unit tests. It keeps the API server rules the engine relies on: every
 * write bumps a global resourceVersion; `replace` with a stale metadata.resourceVersion fails 409
 * (KUBE_CONFLICT), `create` of an existing object fails 409, a namespaced object needs its Namespace, and
 * deleting a Namespace removes what is in it. Tests can intercept writes (`beforeWrite`) to play a
 * concurrent writer, and read every call from `calls`.
 */
import type { KubeClient, KubeObject, ObjectRef } from '../../src/clients/kube.js';
import { kubeError, refLabel as label, refOf } from '../../src/clients/kube.js';
import { validateConfig } from '../../src/config/load.js';
import { createStepContext } from '../../src/runner/context.js';
import { rawCluster, rawPlatform } from './config.js';
import { memoryLogger } from './memory-logger.js';

/** One recorded call. */
export interface FakeKubeCall {
  verb: 'get' | 'list' | 'create' | 'replace' | 'apply' | 'patch' | 'delete';
  key: string;
}

/** The fake's extra surface: inspection and fault injection. */
export interface FakeKube extends KubeClient {
  readonly calls: FakeKubeCall[];
  /** Runs before each create/replace/apply/patch/delete is applied; may mutate the store or throw. */
  beforeWrite?: (verb: FakeKubeCall['verb'], ref: ObjectRef) => void | Promise<void>;
  /** Puts an object in the store directly (no hooks, no checks), bumping its resourceVersion. */
  seed<T extends KubeObject>(obj: T): T;
  /** The stored object (a copy), or undefined. */
  peek<T extends KubeObject = KubeObject>(ref: ObjectRef): T | undefined;
  /** Number of stored objects. */
  size(): number;
}

const keyOf = (r: ObjectRef) => `${r.apiVersion}|${r.kind}|${r.namespace ?? ''}|${r.name}`;
const status = (code: number, message: string) => JSON.stringify({ kind: 'Status', code, message });

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Creates an empty fake cluster. */
export function createFakeKube(server = 'https://fake-kube.invalid:6443'): FakeKube {
  const store = new Map<string, KubeObject>();
  const calls: FakeKubeCall[] = [];
  let rv = 1000;
  let uid = 0;

  const stamp = <T extends KubeObject>(obj: KubeObject, prev?: KubeObject): T => {
    const copy = structuredClone(obj) as KubeObject & { stringData?: Record<string, string>; data?: unknown };
    // As the API server does: a Secret's stringData is stored base64-encoded in data.
    if (copy.kind === 'Secret' && copy.stringData) {
      const data = { ...(copy.data as Record<string, string> | undefined) };
      for (const [k, v] of Object.entries(copy.stringData)) data[k] = Buffer.from(v).toString('base64');
      copy.data = data;
      delete copy.stringData;
    }
    copy.metadata.resourceVersion = String(++rv);
    copy.metadata.uid = prev?.metadata.uid ?? `uid-${++uid}`;
    copy.metadata.creationTimestamp = prev?.metadata.creationTimestamp ?? new Date().toISOString();
    store.set(keyOf(refOf(copy)), copy);
    return structuredClone(copy) as T;
  };
  const needNamespace = (obj: KubeObject) => {
    const ns = obj.metadata.namespace;
    if (ns && !store.has(keyOf({ apiVersion: 'v1', kind: 'Namespace', name: ns }))) {
      throw kubeError(404, `create ${label(refOf(obj))}`, status(404, `namespaces "${ns}" not found`));
    }
  };

  const fake: FakeKube = {
    server,
    calls,
    seed(obj) {
      return stamp(obj, store.get(keyOf(refOf(obj))));
    },
    peek<T extends KubeObject>(ref: ObjectRef) {
      const hit = store.get(keyOf(ref));
      return hit ? (structuredClone(hit) as T) : undefined;
    },
    size: () => store.size,
    async get<T extends KubeObject>(ref: ObjectRef) {
      calls.push({ verb: 'get', key: keyOf(ref) });
      return fake.peek<T>(ref);
    },
    async list<T extends KubeObject>(
      apiVersion: string,
      kind: string,
      opts: { namespace?: string; labelSelector?: string } = {},
    ) {
      calls.push({ verb: 'list', key: `${apiVersion}|${kind}|${opts.namespace ?? ''}|*` });
      const want = (opts.labelSelector ?? '')
        .split(',')
        .filter(Boolean)
        .map((p) => p.split('=') as [string, string]);
      return (
        [...store.values()]
          .filter((o) => o.apiVersion === apiVersion && o.kind === kind)
          .filter((o) => !opts.namespace || o.metadata.namespace === opts.namespace)
          // `k=v` matches the value; a bare `k` (an existence selector) any value.
          .filter((o) =>
            want.every(([k, v]) => (v === undefined ? k in (o.metadata.labels ?? {}) : o.metadata.labels?.[k] === v)),
          )
          .map((o) => structuredClone(o) as T)
      );
    },
    async create<T extends KubeObject>(obj: KubeObject) {
      const ref = refOf(obj);
      calls.push({ verb: 'create', key: keyOf(ref) });
      await fake.beforeWrite?.('create', ref);
      if (store.has(keyOf(ref))) {
        throw kubeError(409, `create ${label(ref)}`, status(409, `${ref.kind} "${ref.name}" already exists`));
      }
      needNamespace(obj);
      return stamp<T>(obj);
    },
    async replace<T extends KubeObject>(obj: KubeObject) {
      const ref = refOf(obj);
      calls.push({ verb: 'replace', key: keyOf(ref) });
      await fake.beforeWrite?.('replace', ref);
      const prev = store.get(keyOf(ref));
      if (!prev) throw kubeError(404, `replace ${label(ref)}`, status(404, `${ref.kind} "${ref.name}" not found`));
      const want = obj.metadata.resourceVersion;
      if (want && want !== prev.metadata.resourceVersion) {
        const msg = `Operation cannot be fulfilled on ${ref.kind} "${ref.name}": the object has been modified`;
        throw kubeError(409, `replace ${label(ref)}`, status(409, msg));
      }
      return stamp<T>(obj, prev);
    },
    async apply<T extends KubeObject>(obj: KubeObject) {
      const ref = refOf(obj);
      calls.push({ verb: 'apply', key: keyOf(ref) });
      await fake.beforeWrite?.('apply', ref);
      const prev = store.get(keyOf(ref));
      if (!prev) needNamespace(obj);
      return stamp<T>((prev ? mergePatch(prev, obj) : obj) as KubeObject, prev);
    },
    async patch<T extends KubeObject>(ref: ObjectRef, body: unknown) {
      calls.push({ verb: 'patch', key: keyOf(ref) });
      await fake.beforeWrite?.('patch', ref);
      const prev = store.get(keyOf(ref));
      if (!prev) throw kubeError(404, `patch ${label(ref)}`, status(404, `${ref.kind} "${ref.name}" not found`));
      return stamp<T>(mergePatch(prev, body) as KubeObject, prev);
    },
    async delete(ref: ObjectRef) {
      calls.push({ verb: 'delete', key: keyOf(ref) });
      await fake.beforeWrite?.('delete', ref);
      if (!store.delete(keyOf(ref))) return false;
      if (ref.kind === 'Namespace') {
        for (const [k, o] of store) if (o.metadata.namespace === ref.name) store.delete(k);
      }
      return true;
    },
  };
  return fake;
}

/**
 * A step context for cluster `demo` over a fake kube, with `flux.timeout` as given and a memory logger: for code
 * that waits on Flux (the fake plays the controllers through `beforeWrite`).
 */
export function fakeFluxContext(kube: KubeClient, fluxTimeout = '2s') {
  const raw = rawCluster('demo');
  raw.flux = { timeout: fluxTimeout };
  const cluster = validateConfig(rawPlatform(raw), 't').clusters[0]!;
  const log = memoryLogger();
  return { ctx: createStepContext({ cluster, log, kube: async () => kube, progress: () => {} }), log };
}
