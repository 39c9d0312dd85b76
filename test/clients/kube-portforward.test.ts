/**
 * The port-forward over platctl's own Kubernetes transport: the kubeconfig's CA and token on the upgrade, the
 * v4.channel.k8s.io framing both ways, one WebSocket per local connection that ends with it, and the node's and
 * the API server's refusals as clear errors. Against a fake node (test/helpers/fake-portforward-node.ts); the lab
 * tests (vault-init, vault unseal, workloads) prove it through kube-apiserver to kwok.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectKube } from '../../src/clients/kube.js';
import { podForwarder } from '../../src/clients/kube-portforward.js';
import { httpsTransport } from '../../src/clients/kube-transport.js';
import { vaultApi } from '../../src/vault/api.js';
import { reachVault, startPortForward } from '../../src/vault/reach.js';
import { type FakeNode, startFakeNode } from '../helpers/fake-portforward-node.js';

let pod: http.Server;
let node: FakeNode;

beforeAll(async () => {
  // The "pod": a Vault answering sys/init with a body big enough to span several frames.
  pod = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ initialized: true, padding: 'x'.repeat(200_000) }));
  });
  await new Promise<void>((r) => pod.listen(0, '127.0.0.1', () => r()));
  node = await startFakeNode((pod.address() as AddressInfo).port);
});
afterEach(() => {
  node.mode = 'tunnel';
  node.upgrades.length = 0;
});
afterAll(async () => {
  await node.close();
  pod.closeAllConnections();
  await new Promise<void>((r) => pod.close(() => r()));
});

/** Waits until `f` holds (the other side of a close is asynchronous). */
async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !f(); i++) await sleep(20);
}

describe('port-forward over the Kubernetes transport', () => {
  it('reaches the pod with the kubeconfig token over its CA, and each local connection is one WebSocket', async () => {
    const ep = await reachVault({
      namespace: 'vault',
      env: {},
      kube: () => connectKube({ kubeconfig: node.kubeconfig }),
    });
    try {
      const status = (await vaultApi(ep.addr).initStatus()) as { initialized: boolean; padding?: string };
      expect([status.initialized, status.padding?.length]).toEqual([true, 200_000]);
      expect(node.upgrades).toEqual([
        {
          path: '/api/v1/namespaces/vault/pods/vault-0/portforward?ports=8200',
          protocol: 'v4.channel.k8s.io',
          authorization: 'Bearer fake-node-token-0123456789',
        },
      ]);
      // A raw second connection: bytes both ways, and its WebSocket goes when it does.
      const [host, port] = ep.addr.replace('http://', '').split(':');
      const socket = net.connect(Number(port), host);
      const reply = await new Promise<string>((resolve) => {
        let got = '';
        socket.on('data', (c) => {
          got += c.toString();
          if (got.includes('\r\n\r\n')) resolve(got);
        });
        socket.write('GET /v1/sys/init HTTP/1.1\r\nhost: vault\r\n\r\n');
      });
      expect(reply).toMatch(/^HTTP\/1.1 200 OK/);
      expect(node.upgrades).toHaveLength(2);
      const before = node.open();
      socket.destroy();
      await until(() => node.open() < before);
      expect(node.open()).toBe(before - 1);
    } finally {
      await ep.close();
    }
    await until(() => node.open() === 0);
    expect(node.open()).toBe(0);
  });

  it("ends the local connection with the node's error text when it cannot dial the pod", async () => {
    node.mode = 'dial-error';
    const transport = await httpsTransport({ kubeconfig: node.kubeconfig });
    const heard: string[] = [];
    const open = (p: string, proto: string) => transport.openChannel!(p, proto);
    const pf = await startPortForward(
      podForwarder(open, (err) => heard.push(err.message)),
      'vault',
      'vault-0',
    );
    try {
      await expect(vaultApi(`http://127.0.0.1:${pf.port}`, { timeoutMs: 5000 }).initStatus()).rejects.toThrow(
        /cannot reach Vault/,
      );
      expect(heard).toEqual(['port-forward to vault/vault-0:8200: error forwarding port 8200: connection refused']);
    } finally {
      await pf.close();
    }
  });

  it("reports the API server's refusal with its status and reason, and a server its CA does not vouch for", async () => {
    const transport = await httpsTransport({ kubeconfig: node.kubeconfig });
    await expect(
      transport.openChannel!('/api/v1/namespaces/vault/pods/vault-0/portforward?ports=9', 'v4.channel.k8s.io'),
    ).rejects.toMatchObject({
      code: 'KUBE_API',
      status: 403,
      message:
        'open /api/v1/namespaces/vault/pods/vault-0/portforward: 403 pods "vault-0" is forbidden: no port-forward for you',
    });
    const untrusted = await httpsTransport({ kubeconfig: node.kubeconfigNoCa });
    await expect(
      untrusted.openChannel!('/api/v1/namespaces/vault/pods/vault-0/portforward?ports=8200', 'v4.channel.k8s.io'),
    ).rejects.toMatchObject({ code: 'KUBE_UNREACHABLE', message: expect.stringMatching(/self-signed certificate/) });
    expect(node.upgrades).toHaveLength(1);
  });
});
