/**
 * Waits for Deployments and DaemonSets to finish rolling out, as `kubectl rollout status` judges it: the
 * controller saw the current generation, every replica runs the current template and is available. Bounded,
 * with progress; at the timeout the error names each workload still short and why its pods do not run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PlatctlError } from '../errors.js';
import type { KubeClient, KubeObject, ObjectRef } from './kube.js';
import { type Pod, podProblem } from './pods.js';

type Workload = KubeObject & {
  metadata: KubeObject['metadata'] & { generation?: number };
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
};

/** "2/3 available" style progress, or undefined when rolled out. */
export function rolloutGap(w: Workload): string | undefined {
  const s = w.status ?? {};
  if ((s.observedGeneration ?? 0) < (w.metadata.generation ?? 0)) return 'controller has not seen the change yet';
  if (w.kind === 'DaemonSet') {
    const want = s.desiredNumberScheduled ?? 0;
    const ok = (s.updatedNumberScheduled ?? 0) >= want && (s.numberAvailable ?? 0) >= want;
    return ok ? undefined : `${s.numberAvailable ?? 0}/${want} available`;
  }
  const want = w.spec?.replicas ?? 1;
  const ok = (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want && (s.replicas ?? 0) <= want;
  return ok ? undefined : `${s.availableReplicas ?? 0}/${want} available`;
}

const label = (r: ObjectRef) => `${r.kind} ${r.namespace}/${r.name}`;

/** Why the workload's pods do not run (at most three pods named). */
async function podReasons(kube: KubeClient, w: Workload): Promise<string[]> {
  const labels = w.spec?.selector?.matchLabels ?? {};
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (!selector) return [];
  const pods = await kube.list<Pod>('v1', 'Pod', { namespace: w.metadata.namespace, labelSelector: selector });
  const stuck = pods.filter((p) => p.status?.phase !== 'Running' || p.status.containerStatuses?.some((c) => !c.ready));
  const out: string[] = [];
  for (const p of stuck.slice(0, 3)) out.push(`    pod ${p.metadata.name}: ${await podProblem(kube, p)}`);
  if (pods.length === 0) out.push('    no pods yet');
  return out;
}

/** Polls until every workload has rolled out; throws naming the ones that did not, with their pods' reasons. */
export async function waitForRollout(
  kube: KubeClient,
  refs: readonly ObjectRef[],
  o: { timeoutMs: number; progress: (msg: string) => void; pollMs?: number; hint?: string },
): Promise<void> {
  const started = Date.now();
  for (;;) {
    const found = await Promise.all(refs.map(async (r) => ({ r, w: await kube.get<Workload>(r) })));
    const short = found.map(({ r, w }) => ({ r, w, gap: w ? rolloutGap(w) : 'not found' })).filter((x) => x.gap);
    if (short.length === 0) return;
    const secs = Math.round((Date.now() - started) / 1000);
    if (Date.now() - started >= o.timeoutMs) {
      const lines: string[] = [];
      for (const { r, w, gap } of short) {
        lines.push(`  ${label(r)}: ${gap}`);
        if (w) lines.push(...(await podReasons(kube, w)));
      }
      throw new PlatctlError('WAIT_TIMEOUT', `not rolled out after ${secs}s:\n${lines.join('\n')}`, {
        hint: o.hint ?? 'kubectl describe the pods named above; run again once they run',
      });
    }
    o.progress(`waiting for ${short.map(({ r, gap }) => `${label(r)} (${gap})`).join(', ')}: ${secs}s`);
    await sleep(o.pollMs ?? 1000);
  }
}
