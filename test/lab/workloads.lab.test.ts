/**
 * Workloads run for real in the lab: the controller-manager's deployment/replicaset/statefulset controllers make
 * pods, kube-scheduler places them on the three kwok Nodes (one per zone), and kwok marks them Running and Ready
 * after the pod-ready delay. kubectl rollout status and helm --wait wait on exactly that; nothing is pretended.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube } from '../../src/clients/kube.js';
import { vaultApi } from '../../src/vault/api.js';
import { reachVault } from '../../src/vault/reach.js';
import { lab, labProcessEnv } from './env.js';
import { LAB_ZONES, nodeName } from './kwok.js';

const env = lab();
const ns = `workloads-${process.pid}`;
const kubectl = (args: string[], input?: string) =>
  execa(env.bins.kubectl, args, { env: labProcessEnv(env), input, reject: false });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await kubectl([...args, '-o', 'json']);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as T;
};
interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: {
    phase: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}
const pods = async (selector: string) =>
  (await json<{ items: Pod[] }>(['-n', ns, 'get', 'pods', '-l', selector])).items;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'platctl-lab-workloads-'));
  expect((await kubectl(['create', 'namespace', ns])).exitCode).toBe(0);
});
afterAll(async () => {
  // Running pods must go too: kwok's pod-delete stage plays the kubelet's part of that.
  await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s']);
  await rm(tmp, { recursive: true, force: true });
});

describe('nodes', () => {
  it('three Ready nodes, one per zone, at 127.0.0.1 with their kubelet port', async () => {
    const nodes = await json<{
      items: {
        metadata: { name: string; labels: Record<string, string> };
        status: {
          conditions: { type: string; status: string }[];
          addresses: { type: string; address: string }[];
          daemonEndpoints: { kubeletEndpoint: { Port: number } };
        };
      }[];
    }>(['get', 'nodes']);
    const byZone = new Map(nodes.items.map((n) => [n.metadata.labels['topology.kubernetes.io/zone'], n]));
    expect([...byZone.keys()].sort()).toEqual(LAB_ZONES);
    for (const zone of LAB_ZONES) {
      const n = byZone.get(zone);
      expect(n?.metadata.name).toBe(nodeName(zone));
      expect(n?.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(n?.status.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
      expect(n?.status.daemonEndpoints.kubeletEndpoint.Port).toBe(env.ports.kwok);
    }
  });
});

describe('workload controllers, scheduler and kwok', () => {
  it('a Deployment rolls out only once its pods are Ready; they run on the lab nodes with loopback IPs', async () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          // This pod's own pod-ready delay, whatever PLATCTL_LAB_POD_READY_MS says.
          metadata: { labels: { app: 'web' }, annotations: { 'pod-ready.stage.kwok.x-k8s.io/delay': '4s' } },
          spec: { containers: [{ name: 'web', image: 'nginx' }] },
        },
      },
    };
    const created = await kubectl(['apply', '-f', '-'], JSON.stringify(dep));
    expect(created.exitCode, created.stderr).toBe(0);
    // The pods' ready delay has not passed yet.
    const early = await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=1s']);
    expect(early.exitCode).not.toBe(0);
    const done = await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=90s']);
    expect(done.exitCode, done.stderr).toBe(0);
    const running = await pods('app=web');
    expect(running).toHaveLength(3);
    for (const p of running) {
      expect(p.status.phase).toBe('Running');
      expect(LAB_ZONES.map(nodeName)).toContain(p.spec.nodeName);
      expect(p.status.hostIP).toBe('127.0.0.1');
      expect(p.status.podIP).toMatch(/^127\.88\.\d+\.\d+$/);
    }
  });

  it('required anti-affinity on hostname: three replicas on three nodes, a fourth stays Pending with the reason', async () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: ns },
      spec: {
        replicas: 4,
        serviceName: 'db',
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: {
            containers: [{ name: 'db', image: 'busybox' }],
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' },
                ],
              },
            },
          },
        },
      },
    };
    expect((await kubectl(['apply', '-f', '-'], JSON.stringify(sts))).exitCode).toBe(0);
    let placed: Pod[] = [];
    let pending: Pod | undefined;
    for (let i = 0; i < 300; i++) {
      const all = await pods('app=db');
      placed = all.filter((p) => p.status.phase === 'Running');
      pending = all.find((p) => p.status.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'));
      if (placed.length === 3 && pending) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(new Set(placed.map((p) => p.spec.nodeName)).size).toBe(3);
    const cond = pending?.status.conditions?.find((c) => c.type === 'PodScheduled');
    expect(cond?.reason).toBe('Unschedulable');
    expect(cond?.message).toMatch(/0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules/);
    const ready = await kubectl(['-n', ns, 'get', 'sts', 'db', '-o', 'jsonpath={.status.readyReplicas}']);
    expect(ready.stdout).toBe('3');
  });

  it('helm install --wait returns once the chart Deployment is available', async () => {
    const chart = join(tmp, 'demo');
    expect((await execa(env.bins.helm, ['create', chart])).exitCode).toBe(0);
    const install = await execa(env.bins.helm, ['install', 'demo', chart, '-n', ns, '--wait', '--timeout=90s'], {
      env: labProcessEnv(env),
      reject: false,
    });
    expect(install.exitCode, install.stderr).toBe(0);
    const dep = await json<{ spec: { replicas: number }; status: { availableReplicas?: number } }>([
      '-n',
      ns,
      'get',
      'deployment',
      'demo',
    ]);
    expect(dep.status.availableReplicas).toBe(dep.spec.replicas);
  });

  it('a deleted Running pod goes away (kwok plays the kubelet confirming it), and its ReplicaSet replaces it', async () => {
    const [first] = await pods('app=web');
    const del = await kubectl(['-n', ns, 'delete', 'pod', first?.metadata.name ?? '', '--wait=true', '--timeout=60s']);
    expect(del.exitCode, del.stderr).toBe(0);
    const done = await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=90s']);
    expect(done.exitCode, done.stderr).toBe(0);
    const now = await pods('app=web');
    expect(now.map((p) => p.metadata.name)).not.toContain(first?.metadata.name);
    expect(now.filter((p) => p.status.phase === 'Running')).toHaveLength(3);
  });
});

describe("kwok's kubelet server", () => {
  it('port-forwards vault-0:8200 through the apiserver to the lab OpenBao, as platctl asks it (a WebSocket, v4.channel.k8s.io)', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'vault-0', namespace: ns },
      spec: { containers: [{ name: 'vault', image: 'hashicorp/vault' }] },
    };
    expect((await kubectl(['apply', '-f', '-'], JSON.stringify(pod))).exitCode).toBe(0);
    expect((await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'pod/vault-0', '--timeout=60s'])).exitCode).toBe(
      0,
    );
    const ep = await reachVault({ namespace: ns, env: {}, kube: () => connectKube({ kubeconfig: env.kubeconfig }) });
    try {
      expect(ep.via).toBe('port-forward');
      const viaPod = await vaultApi(ep.addr).sealStatus();
      const direct = await vaultApi(env.vaultAddr).sealStatus();
      expect(viaPod).toEqual(direct);
    } finally {
      await ep.close();
    }
  });
});
