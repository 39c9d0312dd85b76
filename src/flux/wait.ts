/**
 * Waits for Flux to be Ready at the revision platctl pushed: the GitRepository's artifact and the
 * Kustomization's lastAppliedRevision. Progress shows each object's conditions on every poll; a suspended,
 * stalled or failed object (Ready=False for its current generation) fails at once with its own message;
 * at the timeout the error names every object with its conditions, plus all controller Deployments that
 * never became available, together.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient, KubeObject, ObjectRef } from '../clients/kube.js';
import { PlatctlError } from '../errors.js';

/** A condition as Flux (and Kubernetes) write it. */
interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

type FluxObject = KubeObject & {
  spec?: { suspend?: boolean };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    lastHandledReconcileAt?: string;
    artifact?: { revision?: string };
  };
};

/** The annotation `flux reconcile` sets: a controller reconciles at once and echoes it in `lastHandledReconcileAt`. */
export const RECONCILE_ANNOTATION = 'reconcile.fluxcd.io/requestedAt';

/**
 * Asks Flux to reconcile the objects now (as `flux reconcile … --with-source`) rather than at their next interval;
 * returns the token to wait for in their `status.lastHandledReconcileAt`.
 */
export async function requestReconcile(kube: KubeClient, refs: readonly ObjectRef[]): Promise<string> {
  const token = new Date().toISOString();
  for (const ref of refs) await kube.patch(ref, { metadata: { annotations: { [RECONCILE_ANNOTATION]: token } } });
  return token;
}

/** How one object stands. */
export interface Assessment {
  state: 'ready' | 'waiting' | 'failed';
  /** `Kind ns/name: Ready=False (Reason: message)`. */
  summary: string;
}

/** Reasons Flux reports while it is still working things out (not failures to stop on). */
const TRANSIENT = new Set(['Progressing', 'ProgressingWithRetry', 'DependencyNotReady', 'ArtifactFailed']);

/** Parses a config duration ("90s", "10m", "1h", "500ms") to milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new PlatctlError('CONFIG_INVALID', `"${text}" is not a duration such as 90s, 10m or 1h`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** True when a Flux revision (`main@sha1:<sha>` or older `main/<sha>`) names the same commit. */
export function sameRevision(observed: string | undefined, wanted: string): boolean {
  if (!observed) return false;
  const sha = wanted.split(/[:/]/).pop() ?? wanted;
  return observed === wanted || observed.endsWith(sha);
}

const label = (r: ObjectRef) => `${r.kind} ${r.namespace}/${r.name}`;

/**
 * True when the controller has handled our reconcile request, or one made after it: a webhook Receiver (a push
 * racing the wait, or the host delivering the push platctl just made once the webhook exists) overwrites the
 * annotation with its own value, which only a later write can do, so handling that one also follows ours.
 */
function handledSince(obj: FluxObject, requested: string): boolean {
  const handled = obj.status?.lastHandledReconcileAt;
  if (handled === requested) return true;
  const current = obj.metadata.annotations?.[RECONCILE_ANNOTATION];
  return current !== undefined && current !== requested && handled === current;
}

/**
 * Judges one Flux object against the wanted revision. With `requested` (a reconcile request's token) a status
 * the controller wrote before it handled that request is not judged: it may be a stale success or failure.
 */
export function assess(ref: ObjectRef, obj: FluxObject | undefined, revision: string, requested?: string): Assessment {
  if (!obj) return { state: 'waiting', summary: `${label(ref)}: not found` };
  if (requested && !obj.spec?.suspend && !handledSince(obj, requested)) {
    return { state: 'waiting', summary: `${label(ref)}: reconcile requested at ${requested}, not handled yet` };
  }
  const conds = obj.status?.conditions ?? [];
  const show = conds.map(
    (c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`,
  );
  const summary = `${label(ref)}: ${show.length > 0 ? show.join(', ') : 'no status yet'}`;
  if (obj.spec?.suspend) return { state: 'failed', summary: `${label(ref)}: suspended (spec.suspend: true)` };
  const stalled = conds.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled) return { state: 'failed', summary };
  const ready = conds.find((c) => c.type === 'Ready');
  const generation = (obj.metadata as { generation?: number }).generation ?? 0;
  const observed = ready?.observedGeneration ?? obj.status?.observedGeneration ?? -1;
  const atRevision = sameRevision(
    ref.kind === 'GitRepository' ? obj.status?.artifact?.revision : obj.status?.lastAppliedRevision,
    revision,
  );
  if (ready?.status === 'True' && atRevision && observed >= generation) return { state: 'ready', summary };
  const attempted = obj.status?.lastAttemptedRevision;
  // Reconciling=True (Progressing): an attempt is under way, and Ready still tells the previous one's outcome.
  // (Failed attempts that will be retried say ProgressingWithRetry: those are judged.)
  const inFlight = conds.some((c) => c.type === 'Reconciling' && c.status === 'True' && c.reason === 'Progressing');
  const failedNow =
    !inFlight &&
    ready?.status === 'False' &&
    observed >= generation &&
    !TRANSIENT.has(ready.reason ?? '') &&
    (!attempted || sameRevision(attempted, revision));
  return { state: failedNow ? 'failed' : 'waiting', summary };
}

/** Names of the controller Deployments in `namespace` that are not Available. */
export async function unavailableControllers(kube: KubeClient, namespace: string): Promise<string[]> {
  const deployments = await kube.list<FluxObject>('apps/v1', 'Deployment', { namespace });
  return deployments
    .filter((d) => !(d.status?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True'))
    .map((d) => d.metadata.name)
    .sort();
}

/**
 * How long {@link waitForSync} sleeps between looks when no `pollMs` is given: 500 ms for the first 30 s, where
 * most syncs end (a 2 s poll added a second on average to every flux step), then 2 s: a sync still going after
 * half a minute is waiting on something slow (a controller starting, a big apply), and 3 reads a second for
 * the whole `flux.timeout` would only load the API server.
 */
export function syncPollMs(elapsedMs: number): number {
  return elapsedMs < 30_000 ? 500 : 2000;
}

/** Options for {@link waitForSync}. */
export interface WaitOptions {
  /** The pushed revision, `<branch>@sha1:<sha>`. */
  revision: string;
  /** The token of a reconcile request ({@link requestReconcile}): judge only statuses written after it. */
  requested?: string;
  timeoutMs: number;
  /** A fixed time between looks (default {@link syncPollMs}). */
  pollMs?: number;
  progress: (msg: string) => void;
  namespace?: string;
}

/** The objects platctl waits for. */
export function syncRefs(namespace = 'flux-system'): ObjectRef[] {
  return [
    { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace, name: 'flux-system' },
    { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace, name: 'flux-system' },
  ];
}

/** Polls until both objects are Ready at the revision; throws early on failure, and at the timeout. */
export async function waitForSync(kube: KubeClient, o: WaitOptions): Promise<void> {
  const namespace = o.namespace ?? 'flux-system';
  const refs = syncRefs(namespace);
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  for (;;) {
    const found = await Promise.all(
      refs.map(async (r) => assess(r, await kube.get<FluxObject>(r), o.revision, o.requested)),
    );
    const failed = found.filter((a) => a.state === 'failed');
    if (failed.length > 0) {
      throw new PlatctlError(
        'FLUX_NOT_READY',
        `Flux failed to sync ${o.revision}: ${failed.map((a) => a.summary).join('; ')}`,
        {
          hint: 'fix the cause above (flux logs, or `kubectl -n flux-system describe` the object), then run bootstrap again',
        },
      );
    }
    if (found.every((a) => a.state === 'ready')) return;
    const down = await unavailableControllers(kube, namespace);
    const controllers = down.length > 0 ? ` | controllers not available: ${down.join(', ')}` : '';
    o.progress(`waiting for ${o.revision}: ${found.map((a) => a.summary).join(' | ')}${controllers}`);
    if (Date.now() >= deadline) {
      throw new PlatctlError(
        'FLUX_NOT_READY',
        `Flux was not ready at ${o.revision} within ${Math.round(o.timeoutMs / 1000)}s: ${found.map((a) => a.summary).join('; ')}${
          down.length > 0 ? `; controller Deployments never became available: ${down.join(', ')}` : ''
        }`,
        {
          hint:
            down.length > 0
              ? `check the pods in ${namespace} (kubectl -n ${namespace} get pods): images pullable (images.mirror), nodes schedulable`
              : 'raise flux.timeout in platform.yaml, or see `kubectl -n flux-system get gitrepositories,kustomizations`',
        },
      );
    }
    await sleep(Math.min(o.pollMs ?? syncPollMs(Date.now() - started), Math.max(0, deadline - Date.now())));
  }
}
