/**
 * The lab's Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager (with the workload
 * controllers) and kube-scheduler. The nodes and the "kubelet" are kwok's (see kwok.ts).
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { labPaths, VERSIONS } from './config.js';
import type { BinPaths } from './install.js';
import type { PkiPaths } from './pki.js';
import { HOST, type Ports } from './ports.js';
import { httpStatus, type ServiceSpec } from './service.js';

/** The kubeconfig context name. */
export const KUBE_CONTEXT = 'lab';

/** The apiserver's URL for the given ports. */
export function apiserverUrl(ports: Ports): string {
  return `https://${HOST}:${ports.apiserver}`;
}

/** etcd: one member, plain HTTP on loopback (only the apiserver talks to it). */
export function etcdSpec(bins: BinPaths, ports: Ports): ServiceSpec {
  const client = `http://${HOST}:${ports.etcd}`;
  const peer = `http://${HOST}:${ports.etcdPeer}`;
  return {
    name: 'etcd',
    version: VERSIONS.etcd,
    address: client,
    cmd: bins.etcd,
    args: [
      '--name=lab',
      `--data-dir=${join(labPaths().data, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=lab=${peer}`,
      '--log-level=warn',
      // Tests churn objects; keep the db small without a separate defrag.
      '--auto-compaction-mode=periodic',
      '--auto-compaction-retention=5m',
      '--quota-backend-bytes=2147483648',
    ],
    ready: async () => (await httpStatus(`${client}/health`)) === 200,
  };
}

/** kube-apiserver: client-cert auth against the lab CA, RBAC, service-account tokens. */
export function apiserverSpec(bins: BinPaths, ports: Ports, pki: PkiPaths): ServiceSpec {
  const url = apiserverUrl(ports);
  const tls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) };
  return {
    name: 'kube-apiserver',
    version: VERSIONS.kube,
    address: url,
    cmd: bins.kubeApiserver,
    args: [
      `--etcd-servers=http://${HOST}:${ports.etcd}`,
      `--bind-address=${HOST}`,
      `--advertise-address=${HOST}`,
      `--secure-port=${ports.apiserver}`,
      `--cert-dir=${join(labPaths().data, 'apiserver')}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/12',
      '--allow-privileged=true',
      // Loopback only: no webhook server runs in the lab, and a webhook's Service ClusterIP (10.96.0.0/12) is an
      // address off this machine. The apiserver must never dial one, so it calls no admission webhook at all.
      '--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
      // Endpoints may not hold loopback IPs, so the `kubernetes` endpoint reconciler would only log errors.
      '--endpoint-reconciler-type=none',
      // Port-forward, logs, exec go to the node's kubelet: kwok's server on 127.0.0.1 (the nodes' InternalIP; a
      // Hostname address would mean a DNS lookup), its serving cert checked against the lab CA.
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-certificate-authority=${pki.caCert}`,
      '--profiling=false',
      '--v=1',
    ],
    ready: async () => (await httpStatus(`${url}/readyz`, tls)) === 200,
    timeoutMs: 90_000,
  };
}

/**
 * Controllers the lab's kube-controller-manager does not run. No cloud and no pod network: the node IPAM, route
 * and cloud controllers have nothing to do. The endpoint controllers would write the pods' loopback IPs
 * (kwok's 127.88.0.0/16), which the apiserver refuses in Endpoints and EndpointSlices, so Service routing is not
 * played at all (docs/lab.md, "What stays played"). The node lifecycle controller runs: it lifts the not-ready taint a
 * new Node gets once kwok reports it Ready, and taints a node whose lease kwok stops renewing, as on EKS.
 */
export const DISABLED_CONTROLLERS = [
  'node-ipam-controller',
  'cloud-node-lifecycle-controller',
  'service-lb-controller',
  'node-route-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
] as const;

/**
 * kube-controller-manager: the workload controllers (deployment, replicaset, statefulset, daemonset, job), the
 * PV controller, namespace deletion, GC, SA tokens, root CA configmaps, quotas.
 */
export function controllerManagerSpec(bins: BinPaths, ports: Ports, pki: PkiPaths, kubeconfig: string): ServiceSpec {
  const url = `https://${HOST}:${ports.controllerManager}`;
  return {
    name: 'kube-controller-manager',
    version: VERSIONS.kube,
    address: url,
    cmd: bins.kubeControllerManager,
    args: [
      `--kubeconfig=${kubeconfig}`,
      // No authentication/authorization kubeconfig: its secure port then serves only the always-allowed
      // /healthz etc., and it does not look for the aggregation CA the lab apiserver has no use for.
      '--leader-elect=false',
      `--bind-address=${HOST}`,
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${join(labPaths().data, 'controller-manager')}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--use-service-account-credentials=false',
      '--service-cluster-ip-range=10.96.0.0/12',
      `--controllers=*,${DISABLED_CONTROLLERS.map((c) => `-${c}`).join(',')}`,
      '--v=1',
    ],
    ready: async () => (await httpStatus(`${url}/healthz`, { insecure: true })) === 200,
    timeoutMs: 60_000,
  };
}

/** Writes `.lab/kubeconfig` (context `lab`, certs embedded so it works from anywhere). */
export async function writeKubeconfig(path: string, ports: Ports, pki: PkiPaths): Promise<void> {
  const b64 = (p: string) => readFileSync(p).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: KUBE_CONTEXT, cluster: { server: apiserverUrl(ports), 'certificate-authority-data': b64(pki.caCert) } },
    ],
    users: [
      {
        name: 'lab-admin',
        user: { 'client-certificate-data': b64(pki.adminCert), 'client-key-data': b64(pki.adminKey) },
      },
    ],
    contexts: [{ name: KUBE_CONTEXT, context: { cluster: KUBE_CONTEXT, user: 'lab-admin' } }],
    'current-context': KUBE_CONTEXT,
    preferences: {},
  };
  await mkdir(labPaths().dir, { recursive: true });
  await writeFile(path, stringify(config), { mode: 0o600 });
}
