/**
 * Waiting for Vault's server pods, behind the narrow kube interface: the vault step fails when vault-0 cannot
 * run and warns about other servers; vault-init's wait names why vault-0 does not run (the scheduler's message,
 * an unbound claim, the latest FailedScheduling event).
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { partialWarning, waitForServer, waitForServers } from '../../src/vault/pods.js';
import { createFakeKube } from '../helpers/fake-kube.js';
import { platctlFailure } from '../helpers/platctl-error.js';

const ns = 'vault';
const opts = (progress: string[] = []) => ({
  namespace: ns,
  timeoutMs: 50,
  pollMs: 10,
  progress: (m: string) => progress.push(m),
});
const pod = (name: string, status: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns },
  spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `data-${name}` } }], ...spec },
  status,
});
const running = (name: string) => pod(name, { phase: 'Running' }, { nodeName: 'node-a' });
const antiAffinity = {
  phase: 'Pending',
  conditions: [
    {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules.",
    },
  ],
};
const claim = (name: string, phase: string, storageClassName?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: ns },
  spec: storageClassName === undefined ? {} : { storageClassName },
  status: { phase },
});

function cluster() {
  const kube = createFakeKube();
  kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const i of [0, 1, 2]) kube.seed(claim(`data-vault-${i}`, 'Bound', 'gp3'));
  return kube;
}

describe('the vault step waits for its servers to run', () => {
  it('returns when all run, with progress while some do not', async () => {
    const kube = cluster();
    kube.seed(running('vault-0'));
    kube.seed(running('vault-1'));
    kube.seed(pod('vault-2', { phase: 'Pending' }, { nodeName: 'node-c' }));
    const progress: string[] = [];
    setTimeout(() => kube.seed(running('vault-2')), 15);
    const state = await waitForServers(kube, 3, { ...opts(progress), timeoutMs: 5000 });
    expect(state).toEqual({ running: ['vault-0', 'vault-1', 'vault-2'], notRunning: [] });
    expect(progress[0]).toMatch(/^waiting for vault\/vault-2 \(Pending\) to run: \d+s$/);
    expect(partialWarning(state, ns, 3)).toEqual([]);
  });

  it("warns, naming the pod and the scheduler's reason, when vault-0 runs but vault-2 cannot be placed", async () => {
    const kube = cluster();
    kube.seed(running('vault-0'));
    kube.seed(running('vault-1'));
    kube.seed(pod('vault-2', antiAffinity));
    const state = await waitForServers(kube, 3, opts());
    const lines = partialWarning(state, ns, 3);
    expect(lines[0]).toBe('only 2 of 3 Vault servers run; Raft loses its fault tolerance until the rest do:');
    expect(lines[1]).toBe(
      "  vault/vault-2: Pending; Unschedulable: 0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules.",
    );
    expect(lines[2]).toContain('add nodes');
  });

  it('fails (WAIT_TIMEOUT) when no server runs: nothing could be initialised', async () => {
    const kube = cluster();
    kube.seed(claim('data-vault-0', 'Pending', 'gp3'));
    kube.seed(pod('vault-0', { phase: 'Pending' }, { nodeName: undefined }));
    kube.seed(pod('vault-1', antiAffinity));
    kube.seed({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e1', namespace: ns, creationTimestamp: '2026-01-01T00:00:00Z' },
      involvedObject: { kind: 'PersistentVolumeClaim', name: 'data-vault-0' },
      reason: 'ExternalProvisioning',
      message: "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com'",
    } as KubeObject);
    const err = await platctlFailure(waitForServers(kube, 2, opts()));
    expect(err.code).toBe('WAIT_TIMEOUT');
    expect(err.message).toContain(
      'no Vault server runs after 0s, so none can be initialised:\n  vault/vault-0: Pending',
    );
    expect(err.message).toContain(
      '\n  vault/vault-1: Pending; Unschedulable: 0/3 nodes are available: 1 node(s) were unschedulable',
    );
    expect(err.message).toContain(
      "vault/vault-0: Pending; not scheduled yet; PersistentVolumeClaim data-vault-0 is Pending (StorageClass gp3): ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com'",
    );
    expect(err.hint).toContain('StorageClass');
  });
});

describe("vault-init's wait for a server", () => {
  it('names a missing pod', async () => {
    const err = await platctlFailure(waitForServer(cluster(), 1, opts()));
    expect(err.message).toBe(
      'no Vault server runs after 0s, so none can be initialised:\n  vault/vault-0: no such pod',
    );
  });

  it('takes vault-0 when it runs, else the first server that does (the chart starts them in parallel)', async () => {
    const kube = cluster();
    kube.seed(pod('vault-0', antiAffinity));
    kube.seed(running('vault-2'));
    expect(await waitForServer(kube, 3, opts())).toBe('vault-2');
    kube.seed(running('vault-1'));
    expect(await waitForServer(kube, 3, opts())).toBe('vault-1');
    kube.seed(running('vault-0'));
    expect(await waitForServer(kube, 3, opts())).toBe('vault-0');
  });

  it("names the scheduler's message from the latest FailedScheduling event when the condition is not there", async () => {
    const kube = cluster();
    kube.seed(pod('vault-0', { phase: 'Pending' }));
    for (const [i, msg] of [
      '0/3 nodes are available: old',
      '0/3 nodes are available: 3 node(s) were unschedulable.',
    ].entries())
      kube.seed({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `e${i}`, namespace: ns },
        involvedObject: { kind: 'Pod', name: 'vault-0' },
        reason: 'FailedScheduling',
        message: msg,
        lastTimestamp: `2026-01-01T00:00:0${i}Z`,
      } as KubeObject);
    const err = await platctlFailure(waitForServer(kube, 1, opts()));
    expect(err.message).toContain(
      'vault/vault-0: Pending; FailedScheduling: 0/3 nodes are available: 3 node(s) were unschedulable.',
    );
    expect(err.hint).toContain('scheduler');
  });

  it('names a claim with no class', async () => {
    const kube = cluster();
    kube.seed(claim('data-vault-0', 'Pending'));
    kube.seed(pod('vault-0', antiAffinity));
    const err = await platctlFailure(waitForServer(kube, 1, opts()));
    expect(err.message).toContain('PersistentVolumeClaim data-vault-0 is Pending (StorageClass (cluster default))');
  });
});
