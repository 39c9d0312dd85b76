/**
 * Reaching Vault: `--vault-addr`, else VAULT_ADDR (the lab), else a port-forward to the Vault pod (`vault-0` in
 * `vault.namespace`) through the Kubernetes API, over the Kubernetes client's own transport
 * (src/clients/kube-portforward.ts).
 * The forward listens on 127.0.0.1 on a free port; each local connection opens its own stream to the pod.
 * Through the forward, a Vault outside the mesh serves TLS: https, checked against the CA in the vault step's
 * Secret (or VAULT_CACERT) and the pod's name under the headless service.
 */
import net from 'node:net';
import type { KubeClient, KubeObject } from '../clients/kube.js';
import type { PodForwarder } from '../clients/kube-portforward.js';
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

export type { PodForwarder } from '../clients/kube-portforward.js';

/** Options for {@link reachVault}. */
export interface ReachOptions {
  vaultAddr?: string;
  env?: NodeJS.ProcessEnv;
  namespace: string;
  /** The pod to forward to (default vault-0). */
  pod?: string;
  /** Use https through the forward (Vault serves TLS in the pod), checked with this CA and server name. */
  tls?: { ca?: string; servername?: string };
  /** The cluster's client, for the port-forward (the run's own connection: one kubeconfig read, one agent). */
  kube?: () => Promise<KubeClient>;
  /** Test seam: replaces the Kubernetes client's port-forward. */
  forwarder?: PodForwarder;
}

/** The port-forward of the cluster's client (the default kubeconfig's when none is given). */
async function kubeForwarder(kube?: () => Promise<KubeClient>): Promise<PodForwarder> {
  const client = kube ? await kube() : await (await import('../clients/kube.js')).connectKube();
  if (!client.forwarder)
    throw new PlatctlError('INTERNAL', `the Kubernetes client for ${client.server} cannot port-forward`);
  return client.forwarder;
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
  const forward = opts.forwarder ?? (await kubeForwarder(opts.kube));
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
  kube: () => Promise<KubeClient>;
  env?: NodeJS.ProcessEnv;
  forwarder?: PodForwarder;
}): Promise<VaultEndpoint> {
  const env = o.env ?? process.env;
  const namespace = o.cluster.vault.namespace;
  const base = { vaultAddr: o.vaultAddr, env, namespace, pod: o.pod, kube: o.kube, forwarder: o.forwarder };
  if (o.vaultAddr || env.VAULT_ADDR || vaultMeshed(o.cluster)) return reachVault(base);
  const pod = o.pod ?? `${VAULT_RELEASE}-0`;
  // VAULT_CACERT, when set, is read by the API client itself.
  const ca = env.VAULT_CACERT ? undefined : await vaultCa(await o.kube(), namespace);
  return reachVault({ ...base, tls: { ca, servername: `${pod}.${VAULT_RELEASE}-internal` } });
}
