/**
 * Every lab test file must leave the lab as it found it, even when an assertion fails: no run lock held, no
 * state ConfigMap it made, no namespace left terminating. This runs around each file of the lab project
 * (vitest setupFiles): what a file left behind is cleaned up here, so the next file starts clean, and it fails
 * THIS file naming what was left — one failure stays one failure, and a red run names its real cause.
 *
 * Files run two at a time, each against a lab it claims for itself (env.ts), so nothing on the machine may be
 * shared between two files either: this points `PLATCTL_LAB_DIR` at the claimed lab, and gives the file its own
 * `PLATCTL_HOME` and `TMPDIR` (platctl's journals and lock files, key files, clones), which child processes inherit.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { connectKube, type KubeClient, type KubeObject } from '../../src/clients/kube.js';
import { settle } from '../../src/clients/namespaces.js';
import { LOCK_LEASE } from '../../src/lock/lease.js';
import { removeClusterState } from '../../src/runner/session.js';
import { STATE_CONFIGMAP, SYSTEM_NAMESPACE } from '../../src/state/configmap.js';
import { claimLab } from './env.js';
import { sessionDescendants } from './proc.js';

const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: SYSTEM_NAMESPACE, name: LOCK_LEASE };
const STATE = { apiVersion: 'v1', kind: 'ConfigMap', namespace: SYSTEM_NAMESPACE, name: STATE_CONFIGMAP };
/** How long a namespace the file deleted may take to go before it counts as left behind. */
const SETTLE_MS = 180_000;

type Lease = KubeObject & { spec?: { holderIdentity?: string | null } };

/** What a file may not change: who holds the run lock, whose state is in the cluster. */
async function snapshot(kube: KubeClient) {
  const lease = await kube.get<Lease>(LEASE);
  const state = await kube.get<KubeObject & { data?: Record<string, string> }>(STATE);
  const cluster = state ? (JSON.parse(state.data?.['state.json'] ?? '{}') as { cluster?: string }).cluster : undefined;
  return { holder: lease?.spec?.holderIdentity ?? undefined, state: state ? (cluster ?? '?') : undefined };
}

// Sets PLATCTL_LAB_DIR: lab() returns this file's lab from here on.
const claimed = await claimLab();
const fileTmp = mkdtempSync(path.join(os.tmpdir(), 'platctl-lab-file-'));
process.env.PLATCTL_HOME = path.join(fileTmp, 'home');
process.env.TMPDIR = path.join(fileTmp, 'tmp');
mkdirSync(process.env.TMPDIR, { recursive: true });

let kube: KubeClient;
let before: Awaited<ReturnType<typeof snapshot>>;

beforeAll(async () => {
  kube = await connectKube({ kubeconfig: claimed.env.kubeconfig });
  before = await snapshot(kube);
});

afterAll(async () => {
  const left: string[] = [];
  // A test that timed out leaves its child running (a helm install, a kubectl wait): it would go on acting on
  // this lab after the next file has claimed it. Stopped here, and named.
  for (const child of sessionDescendants()) {
    left.push(`a process still running: ${child.cmd} (killed)`);
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  const now = await snapshot(kube);
  if (now.holder && now.holder !== before.holder) {
    left.push(`the run lock (Lease ${SYSTEM_NAMESPACE}/${LOCK_LEASE}) held by ${now.holder}`);
    await kube.delete(LEASE);
  }
  if (now.state && !before.state) {
    left.push(`state ConfigMap ${SYSTEM_NAMESPACE}/${STATE_CONFIGMAP} of cluster ${now.state}`);
    await removeClusterState(kube);
  }
  const terminating = (await kube.list('v1', 'Namespace')).filter((n) => n.metadata.deletionTimestamp);
  for (const ns of terminating) {
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: ns.metadata.name };
    await settle(kube, ref, { timeoutMs: SETTLE_MS }).catch((err: Error) => left.push(err.message));
  }
  rmSync(fileTmp, { recursive: true, force: true });
  // Two files on one lab see each other's namespaces and locks: a claim lost on the way is named, never silent.
  if (!claimed.held()) {
    left.push(`its claim on ${claimed.env.labDir} (removed or replaced while the file ran: ${claimed.history()})`);
  }
  claimed.release();
  if (left.length > 0) {
    throw new Error(`this test file left the lab changed (now cleaned up): ${left.join('; ')}`);
  }
}, SETTLE_MS + 120_000);
