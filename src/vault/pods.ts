/**
 * Waiting for Vault's server pods (`vault-<i>`). They are never Ready before init and unseal (the chart's
 * readiness probe is Vault's own health), so `helm --wait` cannot be used: the steps wait for them to RUN.
 * The chart starts them in parallel, so which one a shortfall leaves Pending (too few nodes for the required
 * anti-affinity, say) is chance: any running server will do for init, and the others join it through retry_join.
 * - The vault step waits, up to `vault.timeout`, for every server to run. Servers that still do not run then
 *   are named with the reason (the scheduler's, an unbound claim, an image pull) as a warning, as long as one
 *   runs; when none does, nothing can be initialised and the step fails.
 * - vault-init waits for a server to run (vault-0 first) before it port-forwards to it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from '../clients/kube.js';
import { type Pod, podProblem } from '../clients/pods.js';
import { PlatctlError } from '../errors.js';
import { VAULT_RELEASE } from './values.js';

/** Options for the waits. */
export interface PodWaitOptions {
  namespace: string;
  timeoutMs: number;
  progress: (msg: string) => void;
  pollMs?: number;
}

/** How the server pods stand at the end of the wait. */
export interface ServersState {
  running: string[];
  /** One line per server that does not run: "vault-2: Pending; Unschedulable: 0/3 nodes are available: …". */
  notRunning: string[];
}

const podName = (i: number) => `${VAULT_RELEASE}-${i}`;

/** The server pods of a release of `replicas`, in order: vault-0, vault-1, … */
export const serverNames = (replicas: number) => Array.from({ length: replicas }, (_, i) => podName(i));

async function readPods(kube: KubeClient, namespace: string, names: string[]): Promise<(Pod | undefined)[]> {
  return Promise.all(names.map((name) => kube.get<Pod>({ apiVersion: 'v1', kind: 'Pod', namespace, name })));
}

/**
 * Polls `names` until `enough` of them run (all, unless told) or the time is up; returns who runs and why the
 * others do not.
 */
async function waitForRunning(
  kube: KubeClient,
  names: string[],
  o: PodWaitOptions & { enough?: number },
): Promise<ServersState> {
  const started = Date.now();
  for (;;) {
    const pods = await readPods(kube, o.namespace, names);
    const running = names.filter((_, i) => pods[i]?.status?.phase === 'Running');
    const secs = Math.round((Date.now() - started) / 1000);
    if (running.length >= (o.enough ?? names.length) || Date.now() - started >= o.timeoutMs) {
      const notRunning: string[] = [];
      for (const [i, name] of names.entries()) {
        const p = pods[i];
        if (p?.status?.phase === 'Running') continue;
        notRunning.push(`${name}: ${p ? await podProblem(kube, p) : 'no such pod'}`);
      }
      return { running, notRunning };
    }
    const waiting = names.filter((n) => !running.includes(n));
    const phase = (n: string) => pods[names.indexOf(n)]?.status?.phase ?? 'not created';
    o.progress(`waiting for ${waiting.map((n) => `${o.namespace}/${n} (${phase(n)})`).join(', ')} to run: ${secs}s`);
    await sleep(o.pollMs ?? 1000);
  }
}

/** The error when no server runs: every server with its phase and reason. */
function noneRuns(state: ServersState, o: PodWaitOptions): PlatctlError {
  const secs = Math.round(o.timeoutMs / 1000);
  return new PlatctlError(
    'WAIT_TIMEOUT',
    `no Vault server runs after ${secs}s, so none can be initialised:\n${state.notRunning.map((l) => `  ${o.namespace}/${l}`).join('\n')}`,
    { hint: notRunningHint(state.notRunning) },
  );
}

/**
 * The vault step's wait: every server of `replicas`. Throws WAIT_TIMEOUT when none runs at the end; otherwise
 * returns the state (the caller warns about servers that do not run).
 */
export async function waitForServers(kube: KubeClient, replicas: number, o: PodWaitOptions): Promise<ServersState> {
  const state = await waitForRunning(kube, serverNames(replicas), o);
  if (state.running.length === 0) throw noneRuns(state, o);
  return state;
}

/** vault-init's wait: until a server runs; returns the first one that does (vault-0 when it runs). */
export async function waitForServer(kube: KubeClient, replicas: number, o: PodWaitOptions): Promise<string> {
  const state = await waitForRunning(kube, serverNames(replicas), { ...o, enough: 1 });
  const first = state.running[0];
  if (first) return first;
  throw noneRuns(state, o);
}

/** What to do, from the reasons seen (each that applies). */
export function notRunningHint(lines: readonly string[]): string {
  const text = lines.join('\n');
  const hints: string[] = [];
  if (/anti-affinity/.test(text))
    hints.push(
      'required anti-affinity puts one Vault server per node: add nodes (one more per missing server) or lower vault.replicas',
    );
  if (/PersistentVolumeClaim/.test(text))
    hints.push(
      "the Raft volume is not bound: check the storage step's StorageClass and the EBS CSI driver (kubectl -n kube-system get pods -l app=ebs-csi-controller)",
    );
  if (hints.length === 0 && /Unschedulable|FailedScheduling/.test(text))
    hints.push('the scheduler cannot place it: see its reason above (node capacity, taints, cordoned nodes)');
  if (hints.length === 0)
    hints.push('kubectl describe the pod named above; a re-run waits again (vault.timeout sets how long)');
  return hints.join('; ');
}

/** Warning lines for servers that do not run while vault-0 does (empty when all run). */
export function partialWarning(state: ServersState, namespace: string, replicas: number): string[] {
  if (state.notRunning.length === 0) return [];
  return [
    `only ${state.running.length} of ${replicas} Vault servers run; Raft loses its fault tolerance until the rest do:`,
    ...state.notRunning.map((l) => `  ${namespace}/${l}`),
    `  ${notRunningHint(state.notRunning)}`,
  ];
}
