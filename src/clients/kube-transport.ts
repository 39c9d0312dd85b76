/**
 * HTTPS transport to the API server, authenticated by client-node's KubeConfig (certificates, tokens and exec
 * plugins such as `platctl eks token`). Honours --kubeconfig, --context and KUBECONFIG as kubectl does.
 */
import https from 'node:https';
import { PlatctlError } from '../errors.js';
import { traceRequest } from '../trace.js';
import type { KubeTarget, KubeTransport } from './kube.js';

const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

/** Loads the kubeconfig and returns a transport to its current (or named) context's server. */
export async function httpsTransport(target: KubeTarget): Promise<KubeTransport> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (target.kubeconfig) kc.loadFromFile(target.kubeconfig);
    else kc.loadFromDefault();
    if (target.context) kc.setCurrentContext(target.context);
  } catch (err) {
    throw new PlatctlError('KUBE_UNREACHABLE', `cannot load kubeconfig ${target.kubeconfig ?? '(default)'}`, {
      cause: err,
      hint: 'pass --kubeconfig <file> or set KUBECONFIG',
    });
  }
  if (target.context && !kc.getContextObject(target.context)) {
    throw new PlatctlError('KUBE_UNREACHABLE', `kubeconfig has no context "${target.context}"`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new PlatctlError('KUBE_UNREACHABLE', 'kubeconfig has no current cluster', {
      hint: 'pass --kubeconfig <file> and --context <name>',
    });
  }
  const server = cluster.server.replace(/\/$/, '');
  const base: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(base);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: base.ca, cert: base.cert, key: base.key });
  const url = new URL(server);

  return {
    server,
    async request(method, path, body, contentType = 'application/json') {
      traceRequest('kube', method, path);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      // Re-read auth headers per request: exec-plugin tokens (EKS) expire; client-node caches them until then.
      const auth: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(auth);
      return new Promise((resolve, reject) => {
        const req = https.request(
          {
            ...base,
            agent,
            method,
            hostname: url.hostname,
            port: url.port || 443,
            path: (url.pathname === '/' ? '' : url.pathname) + path,
            headers: {
              ...(auth.headers ?? {}),
              accept: 'application/json',
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
