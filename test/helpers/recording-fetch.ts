/**
 * A stand-in for the global `fetch` that records every request (method, URL, headers, JSON body) and answers
 * from a list of routes, so the git host clients' request shapes can be asserted without a server.
 */
import { vi } from 'vitest';

/** One recorded request. */
export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** A canned answer for requests whose `METHOD path` matches. */
export interface Route {
  method: string;
  /** Path (with query) or a pattern tested against it. */
  path: string | RegExp;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Replaces global fetch; returns the recorded requests. Unmatched requests answer 599 (and fail the test). */
export function stubFetch(routes: Route[]): Recorded[] {
  const seen: Recorded[] = [];
  vi.stubGlobal('fetch', async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const method = (init.method ?? 'GET').toUpperCase();
    const text = typeof init.body === 'string' ? init.body : undefined;
    seen.push({ method, url: url.toString(), headers, body: text ? JSON.parse(text) : undefined });
    const where = url.pathname + url.search;
    const route = routes.find(
      (r) => r.method === method && (typeof r.path === 'string' ? r.path === where : r.path.test(where)),
    );
    if (!route) return new Response(JSON.stringify({ message: `no route for ${method} ${where}` }), { status: 599 });
    const status = route.status ?? 200;
    const body = status === 204 || route.body === undefined ? null : JSON.stringify(route.body);
    return new Response(body, {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...route.headers },
    });
  });
  return seen;
}
