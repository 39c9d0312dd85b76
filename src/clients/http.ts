/**
 * Bounded HTTP for API clients (the Gitea and GitHub APIs): `fetch` with an overall limit covering connect,
 * headers and body (Node's fetch alone waits up to 300 s for headers and forever for a body), a progress line
 * while it waits, and a TIMEOUT error naming the host. Idempotent requests may be retried on a timeout or a
 * connection failure.
 */
import { DEFAULT_TIMEOUTS } from './timeouts.js';
import { bounded } from './waiting.js';

/** Options for {@link boundedFetch}. */
export interface BoundedFetchOptions {
  /** Overall limit per attempt (default: timeouts.http, 30 s). */
  timeoutMs?: number;
  /** Attempts for a GET/HEAD (or `retry: true`) that times out or cannot connect (default 2). */
  attempts?: number;
  /** Retry a non-idempotent request too (only when the API makes it safe, e.g. a PUT of a whole object). */
  retry?: boolean;
  /** What the call does, for messages ("Gitea: create repository fleet"). */
  what?: string;
  /** What to check when it does not answer (default: the host's reachability). */
  hint?: string;
}

/** The response with its body read: the limit covers the body, so callers never wait on a stream. */
export interface BoundedResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (throws on a non-JSON body). */
  json<T = unknown>(): T;
}

const retriable = (err: unknown) => {
  const code = (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
  return (
    (err as { code?: string }).code === 'TIMEOUT' || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|UND_ERR/.test(code ?? '')
  );
};

/**
 * `fetch(url, init)` bounded as above. Rejects with TIMEOUT (naming the host) when an attempt runs out of time;
 * other network errors are rethrown as they are. HTTP error statuses are returned, not thrown.
 */
export async function boundedFetch(
  url: string | URL,
  init: RequestInit = {},
  o: BoundedFetchOptions = {},
): Promise<BoundedResponse> {
  const u = new URL(url);
  const method = (init.method ?? 'GET').toUpperCase();
  const limit = o.timeoutMs ?? DEFAULT_TIMEOUTS.httpMs;
  const attempts = o.retry || method === 'GET' || method === 'HEAD' ? (o.attempts ?? 2) : 1;
  const expiry = {
    endpoint: u.host,
    what: o.what ?? `${method} ${u.origin}${u.pathname}`,
    hint: o.hint ?? `check that ${u.origin} answers (a proxy, VPN or the service's status page)`,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await bounded(u.host, limit, expiry, async (signal) => {
        const res = await fetch(u, { ...init, signal: init.signal ? AbortSignal.any([init.signal, signal]) : signal });
        const text = await res.text();
        return {
          status: res.status,
          ok: res.ok,
          headers: res.headers,
          text,
          json: <T>() => JSON.parse(text) as T,
        };
      });
    } catch (err) {
      if (attempt >= attempts || !retriable(err)) throw err;
    }
  }
}
