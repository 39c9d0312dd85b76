/**
 * {@link GitHost} over Gitea's REST API (`/api/v1`). There is no well-kept Gitea client for Node (the one on
 * npm is a thin generated wrapper with little use), so this is plain HTTP through the bounded, traced
 * {@link hostRequest}: the API platctl needs is seven endpoints.
 */
import { PlatctlError } from '../errors.js';
import { type CallContext, errorMessage, type HostHttpOptions, hostError, hostRequest } from './http.js';
import type { GitHost, HookSpec, HostHook, HostKey, HostRepo, RepoRef } from './types.js';

const TOKEN_VAR = 'GITEA_TOKEN';
/** Gitea's largest page. */
const PAGE = 50;

interface GiteaRepo {
  private: boolean;
  default_branch: string;
  permissions?: { admin?: boolean; push?: boolean; pull?: boolean };
}
interface GiteaKey {
  id: number;
  title: string;
  key: string;
  read_only: boolean;
}
interface GiteaHook {
  id: number;
  type: string;
  config: Record<string, string>;
  events: string[];
  active: boolean;
}

const toRepo = (r: GiteaRepo): HostRepo => ({
  private: r.private,
  defaultBranch: r.default_branch,
  permissions: {
    admin: Boolean(r.permissions?.admin),
    push: Boolean(r.permissions?.push),
    pull: Boolean(r.permissions?.pull),
  },
});
const toKey = (k: GiteaKey): HostKey => ({ id: k.id, title: k.title, key: k.key, readOnly: k.read_only });
const toHook = (h: GiteaHook): HostHook => ({
  id: h.id,
  url: h.config.url ?? '',
  contentType: h.config.content_type ?? '',
  events: h.events,
  active: h.active,
});

/** The API base for a Gitea server URL (`https://gitea.example.com` → `…/api/v1`). */
export function giteaApiBase(serverUrl: string): string {
  const base = serverUrl.replace(/\/+$/, '');
  return base.endsWith('/api/v1') ? base : `${base}/api/v1`;
}

/** A Gitea client for one server and token; `http.timeoutMs` bounds each request (`timeouts.http`). */
export function createGiteaHost(serverUrl: string, token: string, http: HostHttpOptions = {}): GitHost {
  const apiUrl = giteaApiBase(serverUrl);
  const admin = (r: RepoRef) => `admin rights on ${r.owner}/${r.name} (and token scope write:repository)`;
  const path = (r: RepoRef, rest = '') => `/repos/${encodeURIComponent(r.owner)}/${encodeURIComponent(r.name)}${rest}`;

  /** One call; `absent` statuses resolve to undefined instead of failing. */
  async function call<T>(
    method: string,
    p: string,
    c: Omit<CallContext, 'tokenVar'>,
    body?: unknown,
    absent: number[] = [],
  ): Promise<T | undefined> {
    const res = await hostRequest(
      `${apiUrl}${p}`,
      {
        method,
        headers: {
          Authorization: `token ${token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      },
      { ...http, what: `Gitea: ${c.action}` },
    );
    const { text } = res;
    if (absent.includes(res.status)) return undefined;
    if (!res.ok) throw hostError(res.status, errorMessage(text), { ...c, tokenVar: TOKEN_VAR });
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async function all<T>(p: string, c: Omit<CallContext, 'tokenVar'>): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const batch = (await call<T[]>('GET', `${p}?limit=${PAGE}&page=${page}`, c)) ?? [];
      out.push(...batch);
      if (batch.length < PAGE) return out;
    }
  }

  return {
    provider: 'gitea',
    apiUrl,
    async currentUser() {
      const u = await call<{ login: string }>('GET', '/user', {
        action: 'read the token’s user',
        permission: 'token scope read:user',
      });
      if (!u?.login) throw new PlatctlError('GITHOST_API', `${apiUrl}/user returned no login`);
      return u.login;
    },
    async getRepo(r) {
      const c = { action: `read ${r.owner}/${r.name}`, permission: 'token scope read:repository' };
      const repo = await call<GiteaRepo>('GET', path(r), c, undefined, [404]);
      return repo && toRepo(repo);
    },
    async createRepo(r, o) {
      const where = o.personal ? '/user/repos' : `/orgs/${encodeURIComponent(r.owner)}/repos`;
      const c = {
        action: `create repository ${r.owner}/${r.name}`,
        permission: o.personal
          ? 'token scope write:repository'
          : `the right to create repositories in organisation ${r.owner} (and token scope write:organization)`,
      };
      const body = {
        name: r.name,
        private: true,
        auto_init: true,
        default_branch: o.branch,
        description: o.description,
      };
      const repo = await call<GiteaRepo>('POST', where, c, body);
      if (!repo) throw new PlatctlError('GITHOST_API', `${apiUrl}${where} returned no repository`);
      return toRepo(repo);
    },
    async listDeployKeys(r) {
      const keys = await all<GiteaKey>(path(r, '/keys'), {
        action: `list the deploy keys of ${r.owner}/${r.name}`,
        permission: admin(r),
      });
      return keys.map(toKey);
    },
    async addDeployKey(r, k) {
      const c = { action: `add deploy key "${k.title}" to ${r.owner}/${r.name}`, permission: admin(r) };
      const key = await call<GiteaKey>('POST', path(r, '/keys'), c, {
        title: k.title,
        key: k.key,
        read_only: k.readOnly,
      });
      if (!key) throw new PlatctlError('GITHOST_API', `${apiUrl}${path(r, '/keys')} returned no key`);
      return toKey(key);
    },
    async deleteDeployKey(r, id) {
      const c = { action: `remove deploy key ${id} from ${r.owner}/${r.name}`, permission: admin(r) };
      await call('DELETE', path(r, `/keys/${id}`), c, undefined, [404]);
    },
    async listHooks(r) {
      const hooks = await all<GiteaHook>(path(r, '/hooks'), {
        action: `list the webhooks of ${r.owner}/${r.name}`,
        permission: admin(r),
      });
      return hooks.map(toHook);
    },
    async createHook(r, h: HookSpec) {
      const c = { action: `add a push webhook to ${r.owner}/${r.name}`, permission: admin(r) };
      const hook = await call<GiteaHook>('POST', path(r, '/hooks'), c, {
        type: 'gitea',
        config: { url: h.url, content_type: h.contentType, secret: h.secret },
        events: h.events,
        active: true,
      });
      if (!hook) throw new PlatctlError('GITHOST_API', `${apiUrl}${path(r, '/hooks')} returned no hook`);
      return toHook(hook);
    },
    async deleteHook(r, id) {
      const c = { action: `remove webhook ${id} from ${r.owner}/${r.name}`, permission: admin(r) };
      await call('DELETE', path(r, `/hooks/${id}`), c, undefined, [404]);
    },
  };
}
