/**
 * HTTPS transport to the API server: TLS and credentials from the kubeconfig (kubeconfig-auth.ts), keep-alive,
 * request tracing, and connection failures turned into one clear KUBE_UNREACHABLE line naming the server. Its
 * WebSockets (a port-forward's streams, kube-websocket.ts) use the same agent and credentials.
 */
import https from 'node:https';
import { PlatctlError } from '../errors.js';
import { traceRequest } from '../trace.js';
import type { ChannelSocket } from './kube-portforward.js';
import type { KubeTarget } from './kube-target.js';
import { bearerSource, resolveKubeconfig } from './kubeconfig-auth.js';

/** Raw transport, injected so the client can be tested without a server. */
export interface KubeTransport {
  readonly server: string;
  request(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: string }>;
  /** Opens a WebSocket to an API path (a port-forward); absent on transports that cannot stream. */
  openChannel?(path: string, protocol: string): Promise<ChannelSocket>;
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

/** Header source for the deprecated auth-provider stanza: only client-node understands it (loaded lazily). */
async function clientNodeAuth(target: KubeTarget): Promise<() => Promise<string | undefined>> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (target.kubeconfig) kc.loadFromFile(target.kubeconfig);
  else kc.loadFromDefault();
  if (target.context) kc.setCurrentContext(target.context);
  return async () => {
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const h = (opts.headers ?? {}) as Record<string, string>;
    return h.Authorization ?? h.authorization;
  };
}

/** Loads the kubeconfig and returns a transport to its current (or named) context's server. */
export async function httpsTransport(target: KubeTarget): Promise<KubeTransport> {
  const cfg = resolveKubeconfig(target);
  const auth = cfg.user['auth-provider'] ? await clientNodeAuth(target) : bearerSource(cfg);
  const server = cfg.server;
  const url = new URL(server);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: cfg.ca,
    cert: cfg.cert,
    key: cfg.key,
    rejectUnauthorized: !cfg.insecure,
  });

  return {
    server,
    async openChannel(path, protocol) {
      // Not traced: a port-forward's upgrade carries the Vault requests, which are traced themselves.
      const { openKubeWebSocket } = await import('./kube-websocket.js');
      return openKubeWebSocket({ server, agent, authorization: auth }, path, protocol);
    },
    async request(method, path, body, contentType = 'application/json') {
      traceRequest('kube', method, path);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const authorization = await auth();
      return new Promise((resolve, reject) => {
        const req = https.request(
          {
            agent,
            method,
            hostname: url.hostname,
            port: url.port || 443,
            path: (url.pathname === '/' ? '' : url.pathname) + path,
            headers: {
              accept: 'application/json',
              ...(authorization ? { authorization } : {}),
              ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
            },
            timeout: 30_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code && unreachableCodes.has(err.code)) {
            reject(
              new PlatctlError('KUBE_UNREACHABLE', `cannot reach the Kubernetes API at ${server} (${err.code})`, {
                cause: err,
                hint: 'check --kubeconfig/--context, the network path, and that the cluster is running',
              }),
            );
          } else reject(err);
        });
        if (payload) req.write(payload);
        req.end();
      });
    },
  };
}
