/**
 * Reaching Vault: --vault-addr beats VAULT_ADDR beats a port-forward; the port-forward's local listener carries
 * each connection through the forwarder (the Kubernetes client's WebSocket port-forward in real use, tested in
 * test/clients/kube-portforward.test.ts and through kwok by the lab tests). Here the forwarder is a fake behind the
 * narrow {@link PodForwarder} interface that pipes to a local HTTP server standing in for the pod's port 8200.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient, ObjectRef } from '../../src/clients/kube.js';
import { clusterSchema } from '../../src/config/schema.js';
import { vaultApi } from '../../src/vault/api.js';
import { type PodForwarder, reachClusterVault, reachVault, VAULT_PORT } from '../../src/vault/reach.js';

let pod: http.Server;
let podPort: number;

beforeAll(async () => {
  pod = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ initialized: true }));
  });
  await new Promise<void>((r) => pod.listen(0, '127.0.0.1', () => r()));
  podPort = (pod.address() as AddressInfo).port;
});
afterAll(async () => {
  pod.closeAllConnections();
  await new Promise<void>((r) => pod.close(() => r()));
});

/** A forwarder piping each connection to a local port (the "pod"). */
const pipeTo =
  (port: number, opened: string[] = []): PodForwarder =>
  async (namespace, podName, _port, socket) => {
    opened.push(`${namespace}/${podName}`);
    const upstream = net.connect(port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  };

describe('reachVault', () => {
  it('prefers --vault-addr, then VAULT_ADDR, and opens no forward for either', async () => {
    const forwarder: PodForwarder = async () => {
      throw new Error('must not forward');
    };
    const flag = await reachVault({
      vaultAddr: 'http://flag:8200',
      env: { VAULT_ADDR: 'http://env:8200' },
      namespace: 'vault',
      forwarder,
    });
    expect([flag.addr, flag.via]).toEqual(['http://flag:8200', 'flag']);
    const env = await reachVault({ env: { VAULT_ADDR: 'http://env:8200' }, namespace: 'vault', forwarder });
    expect([env.addr, env.via]).toEqual(['http://env:8200', 'env']);
  });

  it('otherwise forwards a local port to vault-0:8200 in the namespace, and closes it', async () => {
    const opened: string[] = [];
    const ports: number[] = [];
    const forward = pipeTo(podPort, opened);
    const forwarder: PodForwarder = (namespace, podName, port, socket) => {
      ports.push(port);
      return forward(namespace, podName, port, socket);
    };
    const ep = await reachVault({ env: {}, namespace: 'vault-ns', forwarder });
    expect(ep.via).toBe('port-forward');
    expect(ep.description).toBe('port-forward to vault-ns/vault-0');
    expect(ep.addr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await vaultApi(ep.addr).initStatus()).toEqual({ initialized: true });
    expect(opened).toEqual(['vault-ns/vault-0']);
    expect(ports).toEqual([VAULT_PORT]);
    await ep.close();
    await expect(vaultApi(ep.addr, { timeoutMs: 2000 }).initStatus()).rejects.toThrow(/cannot reach Vault/);
  });

  it('uses https through the forward when Vault serves TLS, and another pod when asked', async () => {
    const opened: string[] = [];
    const ep = await reachVault({
      env: {},
      namespace: 'vault',
      pod: 'vault-2',
      tls: { servername: 'vault-2.vault-internal' },
      forwarder: async (ns, p, _port, socket) => {
        opened.push(`${ns}/${p}`);
        socket.destroy();
      },
    });
    expect(ep.addr).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expect(vaultApi(ep.addr, { timeoutMs: 2000 }).initStatus()).rejects.toThrow(/cannot reach Vault/);
    expect(opened).toEqual(['vault/vault-2']);
    await ep.close();
  });
});

describe('reachClusterVault', () => {
  let dir: string;
  let tlsPod: https.Server;
  let tlsPort: number;
  let cert: string;
  const reads: string[] = [];
  const kube = (caCrt?: string): (() => Promise<KubeClient>) => {
    const client = {
      get: async (ref: ObjectRef) => {
        reads.push(`${ref.kind} ${ref.namespace}/${ref.name}`);
        return {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: ref.name },
          data: caCrt ? { 'ca.crt': caCrt } : {},
        };
      },
    };
    return async () => client as unknown as KubeClient;
  };
  const cluster = (meshed: boolean) =>
    clusterSchema.parse({
      name: 'c',
      aws: { accountId: '123456789012', region: 'us-east-1' },
      kubernetes: { version: '1.34' },
      fleet: { url: 'ssh://git@h/f.git' },
      istio: { namespaces: meshed ? ['vault'] : [] },
    });

  beforeAll(async () => {
    // Vault's serving cert as the vault step expects it: for <pod>.vault-internal, signed by the Secret's CA.
    dir = await mkdtemp(path.join(tmpdir(), 'platctl-reach-'));
    const [key, crt] = [path.join(dir, 'tls.key'), path.join(dir, 'tls.crt')];
    await execa('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
      ...['-keyout', key, '-out', crt, '-subj', '/CN=vault-0.vault-internal'],
      ...['-addext', 'subjectAltName=DNS:vault-0.vault-internal'],
    ]);
    cert = await readFile(crt, 'utf8');
    tlsPod = https.createServer({ key: await readFile(key), cert }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ initialized: false }));
    });
    await new Promise<void>((r) => tlsPod.listen(0, '127.0.0.1', () => r()));
    tlsPort = (tlsPod.address() as AddressInfo).port;
  });
  afterAll(async () => {
    tlsPod.closeAllConnections(); // the client's keep-alive sockets, and the refused handshake's
    await new Promise<void>((r) => tlsPod.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('outside the mesh: https through the forward, verified with the CA from the vault-tls Secret', async () => {
    reads.length = 0;
    const ep = await reachClusterVault({
      cluster: cluster(false),

      kube: kube(Buffer.from(cert).toString('base64')),
      env: {},
      forwarder: pipeTo(tlsPort),
    });
    expect(ep.addr).toMatch(/^https:/);
    expect(ep.servername).toBe('vault-0.vault-internal');
    expect(reads).toEqual(['Secret vault/vault-tls']);
    expect(await vaultApi(ep.addr, { ca: ep.ca, servername: ep.servername }).initStatus()).toEqual({
      initialized: false,
    });
    // The wrong name for the certificate is refused: the check is real.
    await expect(vaultApi(ep.addr, { ca: ep.ca, servername: 'vault-1.vault-internal' }).initStatus()).rejects.toThrow(
      /cannot reach Vault/,
    );
    await ep.close();
  });

  it('a Secret without ca.crt is a clear error; in the mesh it is plain http with no Secret read', async () => {
    await expect(
      reachClusterVault({ cluster: cluster(false), kube: kube(), env: {}, forwarder: pipeTo(podPort) }),
    ).rejects.toThrow('Secret vault/vault-tls has no ca.crt');
    reads.length = 0;
    const ep = await reachClusterVault({
      cluster: cluster(true),

      kube: kube(),
      env: {},
      forwarder: pipeTo(podPort),
    });
    expect(ep.addr).toMatch(/^http:/);
    expect(reads).toEqual([]);
    expect(await vaultApi(ep.addr).initStatus()).toEqual({ initialized: true });
    await ep.close();
  });
});
