/**
 * WebSockets to the API server (a port-forward's streams), through the transport's own TLS agent and
 * credentials: the same CA, client certificate, token or exec-plugin token as every other request. `ws` is
 * imported lazily, so only a run that opens a stream loads it.
 */
import type https from 'node:https';
import { PlatctlError } from '../errors.js';
import type { ChannelSocket } from './kube-portforward.js';

/** What a WebSocket to the API server needs from the transport. */
export interface WebSocketRoute {
  /** The API server URL (https://host:port[/prefix]). */
  server: string;
  agent: https.Agent;
  /** The current Authorization header, if any. */
  authorization(): Promise<string | undefined>;
}

/** The API server's refusal, with its status and reason (RBAC, a missing pod) as the message. */
function refused(path: string, status: number, body: string): PlatctlError {
  let reason = body.slice(0, 300);
  try {
    reason = (JSON.parse(body) as { message?: string }).message ?? reason;
  } catch {
    // not JSON: keep the raw text
  }
  const err = new PlatctlError('KUBE_API', `open ${path.split('?')[0]}: ${status} ${reason}`.trim());
  return Object.assign(err, { status });
}

/** Opens a WebSocket to `path` on the API server asking for `protocol`; resolves once the upgrade succeeded. */
export async function openKubeWebSocket(route: WebSocketRoute, path: string, protocol: string): Promise<ChannelSocket> {
  const { WebSocket } = await import('ws');
  const authorization = await route.authorization();
  const url = `${route.server.replace(/^http/, 'ws')}${path}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol, {
      agent: route.agent,
      headers: authorization ? { authorization } : {},
      // The streams carry already-compressed or tiny payloads; the kubelet's streaming server never deflates.
      perMessageDeflate: false,
      handshakeTimeout: 30_000,
    });
    ws.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new PlatctlError('KUBE_UNREACHABLE', `cannot open ${path.split('?')[0]} at ${route.server}: ${err.message}`, {
          cause: err,
          hint: 'check --kubeconfig/--context, the network path, and that the cluster is running',
        }),
      ),
    );
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        reject(refused(path, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        req.destroy();
      });
    });
    ws.once('open', () => resolve(ws));
  });
}
