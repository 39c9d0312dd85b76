/**
 * Every request to a git host's API goes through {@link hostRequest} (Gitea) or {@link hostFetch} (octokit's
 * `request.fetch` for GitHub): both are the shared {@link boundedFetch} (src/clients/http.ts), so the bound
 * (`timeouts.http`), the "waiting for <host>… N s" line, the TIMEOUT error and the single retry of a GET are
 * the same as for every other HTTP API. Each request is traced (src/trace.ts, method and path only); a host
 * that cannot be reached is GITHOST_API naming it, and answers are turned into PlatctlErrors that name what to
 * fix. The token never appears in an error.
 */
import { type BoundedResponse, boundedFetch } from '../clients/http.js';
import { DEFAULT_TIMEOUTS } from '../clients/timeouts.js';
import { isPlatctlError, PlatctlError } from '../errors.js';
import { traceRequest } from '../trace.js';

/** How a git host client bounds its requests. */
export interface HostHttpOptions {
  /** Overall limit per request, connect to last byte (`timeouts.http`; default 30 s). */
  timeoutMs?: number;
}

const HINT = 'check fleet.apiUrl and the network path to the git host (a proxy, VPN or firewall)';

/**
 * One bounded, traced request. HTTP error statuses are returned; a TIMEOUT is passed on as it is, any other
 * failure to reach the host becomes GITHOST_API naming it.
 */
export async function hostRequest(
  url: string | URL,
  init: RequestInit,
  o: HostHttpOptions & { what?: string } = {},
): Promise<BoundedResponse> {
  const u = new URL(url);
  const method = (init.method ?? 'GET').toUpperCase();
  traceRequest('githost', method, u.pathname);
  try {
    return await boundedFetch(u, init, {
      timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUTS.httpMs,
      what: o.what ?? `${method} ${u.origin}${u.pathname}`,
      hint: HINT,
    });
  } catch (err) {
    if (isPlatctlError(err)) throw err;
    const e = err as Error & { cause?: { code?: string } };
    throw new PlatctlError('GITHOST_API', `cannot reach the git host at ${u.origin}: ${e.cause?.code ?? e.message}`, {
      cause: err,
      hint: HINT,
    });
  }
}

/** Statuses whose answer has no body (a Response refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

/** {@link hostRequest} as a `fetch`, for clients that take one (octokit's `request.fetch`). */
export function hostFetch(o: HostHttpOptions = {}): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const r = await hostRequest(url, { ...init, method }, o);
    const res = new Response(NO_BODY.has(r.status) ? null : r.text, { status: r.status, headers: r.headers });
    Object.defineProperty(res, 'url', { value: url });
    return res;
  };
}

/** What a failed call was trying to do, for the error message. */
export interface CallContext {
  /** `GITEA_TOKEN` or `GITHUB_TOKEN`. */
  tokenVar: string;
  /** "add a deploy key to acme/fleet". */
  action: string;
  /** The permission the call needs, named as the host's docs name it. */
  permission: string;
}

/** Turns a host's error answer into the PlatctlError that says what to fix. */
export function hostError(status: number, serverMessage: string, c: CallContext): PlatctlError {
  const said = serverMessage ? `: ${serverMessage}` : '';
  if (status === 401) {
    return new PlatctlError('GITHOST_TOKEN', `the git host refused ${c.tokenVar} (401)${said}`, {
      hint: `export a valid token in ${c.tokenVar}; platctl reads it from the environment only`,
    });
  }
  if (status === 403) {
    return new PlatctlError('GITHOST_PERMISSION', `cannot ${c.action}: ${c.tokenVar} lacks ${c.permission}${said}`, {
      hint: `give the token ${c.permission}, then run again (nothing was changed by this call)`,
    });
  }
  return new PlatctlError('GITHOST_API', `cannot ${c.action}: the git host answered ${status}${said}`);
}

/** The message in a host's JSON error body (`{"message": …}` on both hosts), or the text itself, one line. */
export function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message.split('\n')[0] ?? '';
  } catch {
    // not JSON: fall through
  }
  return body.split('\n')[0]?.slice(0, 200) ?? '';
}
