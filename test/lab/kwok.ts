/**
 * Nodes and pods: kube-scheduler places pods on three fake Nodes (one per zone, like a 3-AZ node group), and kwok
 * plays their kubelet. kwok runs the module's own stage files (node-initialize, node-heartbeat-with-lease,
 * pod-ready, pod-complete, pod-delete), with pod-ready held back by {@link podReadyDelayMs} so every wait in
 * platctl really waits. Pod IPs come from 127.88.0.0/16 and the nodes' address is 127.0.0.1, where kwok's kubelet
 * server listens (TLS, the lab CA) and forwards `vault-N:8200` to the lab's OpenBao (ClusterPortForward).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { AWS_LAB, componentDir, labPaths, VERSIONS } from './config.js';
import type { BinPaths } from './install.js';
import type { PkiPaths } from './pki.js';
import { HOST, type Ports } from './ports.js';
import { httpStatus, type ServiceSpec } from './service.js';

/** The pods' addresses: loopback, so nothing a pod "listens on" is ever off this machine. */
export const POD_CIDR = '127.88.0.0/16';

/** The zones of the lab's node group; one Node each. */
export const LAB_ZONES = ['a', 'b', 'c'].map((z) => `${AWS_LAB.region}${z}`);

/** Node name of the lab's node in `zone` (`lab-node-us-east-1a`). */
export const nodeName = (zone: string) => `lab-node-${zone}`;

/** Default delay before kwok marks a scheduled pod Running and Ready. */
export const DEFAULT_POD_READY_MS = 3000;

/** The pod-ready delay: `PLATCTL_LAB_POD_READY_MS` (a pod annotation `pod-ready.stage.kwok.x-k8s.io/delay: 4s` wins). */
export function podReadyDelayMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.PLATCTL_LAB_POD_READY_MS;
  if (v === undefined || v === '') return DEFAULT_POD_READY_MS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`lab: PLATCTL_LAB_POD_READY_MS=${v}: want milliseconds (≥ 0)`);
  return n;
}

/** The module's stage files the lab runs, relative to its `kustomize/stage` dir (copied there by go-build.sh). */
const STAGE_FILES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
];

type Stage = { metadata: { name: string }; spec: Record<string, unknown> };

/** kwok's config: the stages (pod-ready delayed) and the port-forward of Vault's pods to OpenBao. */
export function kwokConfig(ports: Ports, delayMs: number): string {
  const dir = join(componentDir('kwok'), 'stages');
  const stages = STAGE_FILES.flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Stage),
  );
  for (const s of stages) {
    // The node stages take the Hostname address from kwok's single-node option (--node-name, unset here), and a
    // re-run of node-initialize then writes an empty address list: use the Node's own name, as a kubelet does.
    const next = s.spec.next as { statusTemplate?: string } | undefined;
    if (next?.statusTemplate)
      next.statusTemplate = next.statusTemplate.replaceAll('{{ with NodeName }}', '{{ with .metadata.name }}');
    if (s.metadata.name !== 'pod-ready') continue;
    // As the module's "general" pod-ready does, a pod may override the delay with this annotation.
    s.spec.delay = {
      durationMilliseconds: delayMs,
      durationFrom: { expressionFrom: '.metadata.annotations["pod-ready.stage.kwok.x-k8s.io/delay"]' },
    };
  }
  const forward = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterPortForward',
    metadata: { name: 'vault-to-openbao' },
    spec: {
      // Every Vault server pod, whatever its namespace: the lab's one OpenBao answers for all of them.
      selector: { matchNames: ['vault-0', 'vault-1', 'vault-2', 'vault-3', 'vault-4'] },
      forwards: [{ ports: [8200], target: { address: HOST, port: ports.bao } }],
    },
  };
  return [...stages, forward].map((d) => stringify(d)).join('---\n');
}

/** kube-scheduler: the default profile, against the lab apiserver. */
export function schedulerSpec(bins: BinPaths, ports: Ports, kubeconfig: string): ServiceSpec {
  const url = `https://${HOST}:${ports.scheduler}`;
  return {
    name: 'kube-scheduler',
    version: VERSIONS.scheduler,
    address: url,
    cmd: bins.kubeScheduler,
    args: [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      `--bind-address=${HOST}`,
      `--secure-port=${ports.scheduler}`,
      `--cert-dir=${join(labPaths().data, 'scheduler')}`,
      '--v=1',
    ],
    ready: async () => (await httpStatus(`${url}/healthz`, { insecure: true })) === 200,
    timeoutMs: 60_000,
  };
}

/** kwok: manages every Node, plays their kubelet on 127.0.0.1:<kwok port>. */
export async function kwokSpec(bins: BinPaths, ports: Ports, pki: PkiPaths, kubeconfig: string): Promise<ServiceSpec> {
  const config = join(labPaths().dir, 'kwok.yaml');
  const text = kwokConfig(ports, podReadyDelayMs());
  await writeFile(config, text);
  const server = `${HOST}:${ports.kwok}`;
  return {
    name: 'kwok',
    version: VERSIONS.kwok,
    address: `https://${server}`,
    cmd: bins.kwok,
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--config=${config}`,
      '--manage-all-nodes=true',
      `--node-ip=${HOST}`,
      `--node-port=${ports.kwok}`,
      `--server-address=${server}`,
      `--cidr=${POD_CIDR}`,
      // Node leases, renewed every 10 s, as a kubelet's: the node lifecycle controller keeps the nodes Ready.
      '--node-lease-duration-seconds=40',
      `--tls-cert-file=${pki.kubeletCert}`,
      `--tls-private-key-file=${pki.kubeletKey}`,
      // INFO logs every node and pod patch; warnings and errors are what a failing test needs.
      '--v=WARN',
    ],
    fingerprint: text,
    ready: async () => (await httpStatus(`https://${server}/healthz`, { ca: readFileSync(pki.caCert) })) === 200,
    timeoutMs: 60_000,
  };
}

/** The lab's Node for `zone`, labelled as an EKS managed node group's node would be. */
export function labNode(zone: string): V1Node {
  const name = nodeName(zone);
  return {
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'm6i.large',
        'topology.kubernetes.io/region': AWS_LAB.region,
        'topology.kubernetes.io/zone': zone,
        'eks.amazonaws.com/nodegroup': 'lab',
        type: 'kwok',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
  };
}

/** Creates the three Nodes when missing, uncordons them, and waits until every one is Ready and untainted. */
export async function ensureNodes(kubeconfig: string, timeoutMs = 60_000): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  for (const zone of LAB_ZONES) {
    const want = labNode(zone);
    const name = want.metadata?.name ?? '';
    const have = await core.readNode({ name }).catch(() => undefined);
    if (!have) await core.createNode({ body: want });
    else if (have.spec?.unschedulable) {
      // A test that cordoned a node and died before its cleanup: the lab's nodes start schedulable.
      await core.replaceNode({ name, body: { ...have, spec: { ...have.spec, unschedulable: false } } });
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await Promise.all(LAB_ZONES.map((z) => core.readNode({ name: nodeName(z) })));
    // Ready by kwok, and the not-ready taint a new Node is born with lifted by the node lifecycle controller.
    const notReady = nodes.filter(
      (n) =>
        !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ||
        n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready'),
    );
    if (notReady.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`lab: kwok: node(s) ${notReady.map((n) => n.metadata?.name).join(', ')} not Ready`);
    await sleep(200);
  }
}
