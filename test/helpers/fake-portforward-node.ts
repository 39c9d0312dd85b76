/**
 * A stand-in for the API server and node of a port-forward, for unit tests: an HTTPS server (a self-signed
 * certificate for 127.0.0.1, made with openssl) that wants a bearer token and speaks the node's side of
 * `v4.channel.k8s.io` — the port, little-endian, first on the data and the error channel, then the pod's bytes on
 * the data channel — tunnelling each WebSocket to a local TCP port standing in for the pod. The lab's tests prove
 * the real thing (kwok behind kube-apiserver).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { WebSocketServer } from 'ws';
import { stringify } from 'yaml';

/** How the node answers: tunnel to the pod, or report a dial failure on the error channel. */
export type NodeMode = 'tunnel' | 'dial-error';

/** A running fake, with what it saw. */
export interface FakeNode {
  /** A kubeconfig for it (CA and token), written to a temporary folder. */
  kubeconfig: string;
  /** The same without the CA: TLS must then fail. */
  kubeconfigNoCa: string;
  /** Each upgrade request: path, subprotocol asked for, Authorization header. */
  upgrades: { path: string; protocol?: string; authorization?: string }[];
  /** WebSockets open right now. */
  open(): number;
  mode: NodeMode;
  close(): Promise<void>;
}

const TOKEN = 'fake-node-token-0123456789';

/** Starts the fake; `podPort` is where its "pod" listens. */
export async function startFakeNode(podPort: number): Promise<FakeNode> {
  const dir = await mkdtemp(path.join(tmpdir(), 'platctl-pf-'));
  const [keyFile, crtFile] = [path.join(dir, 'tls.key'), path.join(dir, 'tls.crt')];
  await execa('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'],
    ...['-keyout', keyFile, '-out', crtFile, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  ]);
  const cert = await readFile(crtFile);
  const server = https.createServer({ key: await readFile(keyFile), cert });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (asked) => (asked.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
  });
  const fake: FakeNode = {
    kubeconfig: '',
    kubeconfigNoCa: '',
    upgrades: [],
    open: () => wss.clients.size,
    mode: 'tunnel',
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  server.on('upgrade', (req, socket, head) => {
    fake.upgrades.push({
      path: req.url ?? '',
      protocol: req.headers['sec-websocket-protocol'],
      authorization: req.headers.authorization,
    });
    if (req.headers.authorization !== `Bearer ${TOKEN}` || !req.url?.includes('/portforward?ports=8200')) {
      const body = JSON.stringify({ kind: 'Status', message: 'pods "vault-0" is forbidden: no port-forward for you' });
      socket.end(
        `HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // 8200 = 0x2008, little-endian, on both channels, as separate messages (as the kubelet writes them).
      ws.send(Buffer.from([0, 0x08, 0x20]));
      ws.send(Buffer.from([1, 0x08, 0x20]));
      if (fake.mode === 'dial-error') {
        ws.send(Buffer.concat([Buffer.from([1]), Buffer.from('error forwarding port 8200: connection refused')]));
        ws.close();
        return;
      }
      const pod = net.connect(podPort, '127.0.0.1');
      pod.on('data', (c: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), c])));
      pod.on('close', () => ws.close());
      pod.on('error', () => ws.terminate());
      ws.on('message', (m: Buffer) => {
        if (m[0] === 0) pod.write(m.subarray(1));
      });
      ws.on('close', () => pod.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = (ca: boolean) => ({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'fake',
        cluster: { server: url, ...(ca ? { 'certificate-authority-data': cert.toString('base64') } : {}) },
      },
    ],
    users: [{ name: 'fake', user: { token: TOKEN } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
    'current-context': 'fake',
  });
  fake.kubeconfig = path.join(dir, 'kubeconfig');
  fake.kubeconfigNoCa = path.join(dir, 'kubeconfig-no-ca');
  await writeFile(fake.kubeconfig, stringify(kubeconfig(true)), { mode: 0o600 });
  await writeFile(fake.kubeconfigNoCa, stringify(kubeconfig(false)), { mode: 0o600 });
  return fake;
}
