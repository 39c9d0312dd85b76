/**
 * Reaching Vault: `--vault-addr`, else VAULT_ADDR (the lab), else a port-forward to the Vault pod (`vault-0` in
 * `vault.namespace`) through the Kubernetes API with client-node's PortForward, imported only when needed.
 * The forward listens on 127.0.0.1 on a free port; each local connection opens its own stream to the pod.
 * Through the forward, a Vault outside the mesh serves TLS: https, checked against the CA in the vault step's
 * Secret (or VAULT_CACERT) and the pod's name under the headless service.
 */
import net from 'node:net';
import type { Writable } from 'node:stream';
import type { KubeClient, KubeObject } from '../clients/kube.js';
import type { KubeTarget } from '../clients/kube-target.js';
import type { ClusterConfig } from '../config/schema.js';
import { PlatctlError } from '../errors.js';
import { VAULT_RELEASE, VAULT_TLS_SECRET, vaultMeshed } from './values.js';

/** Vault's API port in the pod. */
export const VAULT_PORT = 8200;

/** A way to reach Vault; `close()` ends the port-forward (a no-op for a direct address). */
export interface VaultEndpoint {
  addr: string;
  via: 'flag' | 'env' | 'port-forward';
  /** For messages: "--vault-addr", "VAULT_ADDR", "port-forward to vault/vault-0". */
  description: string;
  /** PEM CA and TLS server name for https through the forward. */
  ca?: string;
  servername?: string;
  close(): Promise<void>;
}

/** Opens one stream from a local socket to the pod's port (client-node's PortForward in real use). */
export type PodForwarder = (namespace: string, pod: string, port: number, socket: net.Socket) => Promise<void>;

/** Options for {@link reachVault}. */
export interface ReachOptions {
  vaultAddr?: string;
  env?: NodeJS.ProcessEnv;
  namespace: string;
  /** The pod to forward to (default vault-0). */
  pod?: string;
  /** Use https through the forward (Vault serves TLS in the pod), checked with this CA and server name. */
  tls?: { ca?: string; servername?: string };
  /** Where the cluster is, for the port-forward. */
  kube?: KubeTarget;
  /** Test seam: replaces client-node's PortForward. */
  forwarder?: PodForwarder;
}

/** client-node's PortForward over the kubeconfig target, loaded lazily. */
async function clientNodeForwarder(target: KubeTarget = {}): Promise<PodForwarder> {
  const { KubeConfig, PortForward } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (target.kubeconfig) kc.loadFromFile(target.kubeconfig);
    else kc.loadFromDefault();
    if (target.context) kc.setCurrentContext(target.context);
  } catch (err) {
    throw new PlatctlError('KUBE_UNREACHABLE', `cannot load kubeconfig ${target.kubeconfig ?? '(default)'}`, {
      cause: err,
      hint: 'pass --kubeconfig, or --vault-addr to reach Vault directly',
    });
  }
  const pf = new PortForward(kc, true);
  return async (namespace, pod, port, socket) => {
    const made = await pf.portForward(namespace, pod, [port], socket as Writable, null, socket);
    const ws = typeof made === 'function' ? made() : made;
    if (!ws) return;
    // One WebSocket per local connection, and they end together: the kubelet keeps a stream open after our side
    // is done (client-node only half-closes it), and an open WebSocket would keep platctl from exiting.
    const end = () => ws.close();
    socket.once('close', end);
    if (socket.destroyed) end();
    ws.on('close', () => socket.destroy());
  };
}

/** Starts a local listener forwarding every connection to the pod; resolves once it listens. */
export async function startPortForward(
  forward: PodForwarder,
  namespace: string,
  pod: string,
  port = VAULT_PORT,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    forward(namespace, pod, port, socket).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new PlatctlError('INTERNAL', 'port-forward: no local port');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Finds Vault: flag, then VAULT_ADDR, then a port-forward to the pod. */
export async function reachVault(opts: ReachOptions): Promise<VaultEndpoint> {
  const none = async () => {};
  if (opts.vaultAddr) return { addr: opts.vaultAddr, via: 'flag', description: '--vault-addr', close: none };
  const envAddr = (opts.env ?? process.env).VAULT_ADDR;
  if (envAddr) return { addr: envAddr, via: 'env', description: 'VAULT_ADDR', close: none };
  const pod = opts.pod ?? 'vault-0';
  const forward = opts.forwarder ?? (await clientNodeForwarder(opts.kube));
  const pf = await startPortForward(forward, opts.namespace, pod);
  return {
    addr: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${pf.port}`,
    via: 'port-forward',
    description: `port-forward to ${opts.namespace}/${pod}`,
    ...(opts.tls ? { ca: opts.tls.ca, servername: opts.tls.servername } : {}),
    close: pf.close,
  };
}

/** The CA that signed Vault's serving certificate: `ca.crt` of the vault step's TLS Secret. */
async function vaultCa(kube: KubeClient, namespace: string): Promise<string> {
  const secret = await kube.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace,
    name: VAULT_TLS_SECRET,
  });
  const ca = secret?.data?.['ca.crt'];
  if (!ca) {
    throw new PlatctlError('VAULT_TLS', `Secret ${namespace}/${VAULT_TLS_SECRET} has no ca.crt to check Vault's TLS`, {
      hint: 'set VAULT_CACERT to the CA file, or pass --vault-addr',
    });
  }
  return Buffer.from(ca, 'base64').toString('utf8');
}

/**
 * Reaches a cluster's Vault as the vault step installed it: the flag or VAULT_ADDR when given, else a forward to
 * the pod, over https unless the namespace is in the mesh (then Istio's mTLS covers it and the pod serves HTTP).
 */
export async function reachClusterVault(o: {
  cluster: ClusterConfig;
  vaultAddr?: string;
  pod?: string;
  kubeTarget: KubeTarget;
  kube: () => Promise<KubeClient>;
  env?: NodeJS.ProcessEnv;
  forwarder?: PodForwarder;
}): Promise<VaultEndpoint> {
  const env = o.env ?? process.env;
  const namespace = o.cluster.vault.namespace;
  const base = { vaultAddr: o.vaultAddr, env, namespace, pod: o.pod, kube: o.kubeTarget, forwarder: o.forwarder };
  if (o.vaultAddr || env.VAULT_ADDR || vaultMeshed(o.cluster)) return reachVault(base);
  const pod = o.pod ?? `${VAULT_RELEASE}-0`;
  // VAULT_CACERT, when set, is read by the API client itself.
  const ca = env.VAULT_CACERT ? undefined : await vaultCa(await o.kube(), namespace);
  return reachVault({ ...base, tls: { ca, servername: `${pod}.${VAULT_RELEASE}-internal` } });
}
