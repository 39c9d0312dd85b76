/**
 * Why a pod does not run, in the words the cluster uses: its phase, the scheduler's Unschedulable message (the
 * PodScheduled condition, else the latest FailedScheduling event), a PersistentVolumeClaim that is not Bound
 * (with its StorageClass and the provisioner's latest event), or a container's waiting reason
 * (ImagePullBackOff, CrashLoopBackOff …). Used by every wait on pods, so a timeout says why.
 */
import type { KubeClient, KubeObject } from './kube.js';

/** The parts of a Pod this module reads. */
export type Pod = KubeObject & {
  spec?: { nodeName?: string; volumes?: { persistentVolumeClaim?: { claimName?: string } }[] };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      ready?: boolean;
      state?: { waiting?: { reason?: string; message?: string } };
    }[];
  };
};

type Pvc = KubeObject & { spec?: { storageClassName?: string }; status?: { phase?: string } };
type KubeEvent = KubeObject & {
  involvedObject?: { kind?: string; name?: string };
  reason?: string;
  message?: string;
  type?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata: KubeObject['metadata'];
};

/** True when the pod's phase is Running. */
export const isRunning = (p: Pod | undefined): boolean => p?.status?.phase === 'Running';

/** The scheduler's verdict when it could not place the pod (PodScheduled=False). */
export function unschedulable(p: Pod): string | undefined {
  const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False');
  return c ? `${c.reason ?? 'Unschedulable'}: ${c.message ?? '(no message)'}` : undefined;
}

const when = (e: KubeEvent) => e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '';

/** The latest event about `kind/name` with one of `reasons`. */
function latest(events: KubeEvent[], kind: string, name: string, reasons: string[]): KubeEvent | undefined {
  return events
    .filter(
      (e) => e.involvedObject?.kind === kind && e.involvedObject.name === name && reasons.includes(e.reason ?? ''),
    )
    .sort((a, b) => when(a).localeCompare(when(b)))
    .pop();
}

/**
 * One line saying why `name` in `namespace` is not running ("vault-0: Pending; Unschedulable: 0/3 nodes are
 * available: …"), or undefined when it runs. Reads the pod, and for a pod that is not running its namespace's
 * events and the claims it mounts.
 */
export async function whyNotRunning(kube: KubeClient, namespace: string, name: string): Promise<string | undefined> {
  const pod = await kube.get<Pod>({ apiVersion: 'v1', kind: 'Pod', namespace, name });
  if (!pod) return `${name}: no such pod yet`;
  if (isRunning(pod)) return undefined;
  return `${name}: ${await podProblem(kube, pod)}`;
}

/** Why a pod that exists is not running: phase plus the most telling reason found. */
export async function podProblem(kube: KubeClient, pod: Pod): Promise<string> {
  const namespace = pod.metadata.namespace ?? 'default';
  const phase = pod.status?.phase ?? 'Pending';
  const reasons: string[] = [];
  const events = await kube.list<KubeEvent>('v1', 'Event', { namespace }).catch(() => [] as KubeEvent[]);
  const sched = unschedulable(pod);
  if (sched) reasons.push(sched);
  else if (!pod.spec?.nodeName) {
    const e = latest(events, 'Pod', pod.metadata.name, ['FailedScheduling']);
    reasons.push(e ? `FailedScheduling: ${e.message}` : 'not scheduled yet');
  }
  for (const v of pod.spec?.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const pvc = await kube.get<Pvc>({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claim });
    if (!pvc) {
      reasons.push(`PersistentVolumeClaim ${claim} does not exist`);
      continue;
    }
    if (pvc.status?.phase === 'Bound') continue;
    const sc = pvc.spec?.storageClassName;
    const e = latest(events, 'PersistentVolumeClaim', claim, [
      'ProvisioningFailed',
      'ExternalProvisioning',
      'WaitForFirstConsumer',
      'WaitForPodScheduled',
      'FailedBinding',
    ]);
    reasons.push(
      `PersistentVolumeClaim ${claim} is ${pvc.status?.phase ?? 'Pending'} (StorageClass ${sc === undefined ? '(cluster default)' : sc || '(none)'})${e ? `: ${e.reason}: ${e.message}` : ''}`,
    );
  }
  for (const c of pod.status?.containerStatuses ?? []) {
    const w = c.state?.waiting;
    if (w?.reason) reasons.push(`container ${c.name}: ${w.reason}${w.message ? ` (${w.message})` : ''}`);
  }
  return [phase, ...reasons].join('; ');
}
