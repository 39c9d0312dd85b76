/**
 * Request tracing for measurement: when PLATCTL_TRACE_REQUESTS names a file, every request platctl makes to
 * Kubernetes, AWS, Vault or the git host's API is appended there as one line "<service> <METHOD> <path>". `npm run bench` reads it
 * to count requests and writes; nothing else uses it, and no body or header is ever written.
 */
import { appendFileSync } from 'node:fs';

/** Records one outgoing request when tracing is on. */
export function traceRequest(service: 'kube' | 'aws' | 'vault' | 'githost', method: string, path: string): void {
  const file = process.env.PLATCTL_TRACE_REQUESTS;
  if (!file) return;
  const cleanPath = path.split('?')[0];
  appendFileSync(file, `${service} ${method.toUpperCase()} ${cleanPath}\n`);
}
