/**
 * Every request to a git host's API goes through {@link boundedFetch}: one place holds the timeout (swap it
 * for the shared bounded-call helper when that lands), every request is traced (src/trace.ts, method and path
 * only) and answers are turned into PlatctlErrors that name what to fix. The token never appears in an error.
 */
import { PlatctlError } from '../errors.js';
import { traceRequest } from '../trace.js';

/** How long one API request may take, connect to last byte. */
export const GIT_HOST_TIMEOUT_MS = 30_000;

/** `fetch`, bounded by {@link GIT_HOST_TIMEOUT_MS} and traced as `githost <METHOD> <path>`. */
export const boundedFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  traceRequest('githost', method, url.pathname);
  const timeout = AbortSignal.timeout(GIT_HOST_TIMEOUT_MS);
  const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  try {
    return await fetch(input, { ...init, signal });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${GIT_HOST_TIMEOUT_MS / 1000}s` : (e.cause?.code ?? e.message);
    throw new PlatctlError('GITHOST_API', `cannot reach the git host at ${url.origin}: ${why}`, {
      cause: err,
      hint: 'check fleet.apiUrl and the network path to the git host',
    });
  }
};

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
