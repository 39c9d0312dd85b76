/**
 * {@link GitHost} over GitHub's REST API with octokit (@octokit/rest), its `fetch` swapped for the bounded,
 * traced {@link hostFetch} (the shared boundedFetch, bounded by `timeouts.http`). `fleet.apiUrl` points it at GitHub Enterprise Server (`https://ghe/api/v3`).
 * No GitHub runs in the lab: the request shapes are unit-tested (test/githost/github.test.ts).
 */
import type { Octokit } from '@octokit/rest';
import { isPlatctlError, PlatctlError } from '../errors.js';
import { type CallContext, type HostHttpOptions, hostError, hostFetch } from './http.js';
import type { GitHost, HookSpec, HostHook, HostKey, HostRepo, RepoRef } from './types.js';

/** GitHub's public API. */
export const GITHUB_API = 'https://api.github.com';
const TOKEN_VAR = 'GITHUB_TOKEN';

interface RequestErrorLike {
  status: number;
  message: string;
  response?: { data?: unknown; headers?: Record<string, string | undefined> };
}

const isRequestError = (e: unknown): e is RequestErrorLike =>
  typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number';

/** Maps octokit's RequestError; GitHub answers 404 rather than 403 when a token may not see a private repo. */
function mapError(err: unknown, c: Omit<CallContext, 'tokenVar'>, write: boolean): unknown {
  if (isPlatctlError(err) || !isRequestError(err)) return err;
  // octokit wraps what its fetch threw (a TIMEOUT, an unreachable host) in a RequestError with status 500.
  const cause = (err as { cause?: unknown }).cause;
  if (isPlatctlError(cause)) return cause;
  const data = err.response?.data as { message?: string } | undefined;
  const accepted = err.response?.headers?.['x-accepted-github-permissions'];
  const message = [data?.message ?? err.message, accepted && `GitHub accepts: ${accepted}`].filter(Boolean).join('; ');
  const status = write && err.status === 404 ? 403 : err.status;
  return hostError(status, message, { ...c, tokenVar: TOKEN_VAR });
}

const repoAdmin = (r: RepoRef, fineGrained: string) =>
  `admin rights on ${r.owner}/${r.name} (classic token: repo scope; fine-grained: ${fineGrained})`;

/**
 * A GitHub client for one API base and token (octokit is imported here, on first use); `http.timeoutMs` bounds
 * each request (`timeouts.http`).
 */
export async function createGitHubHost(apiUrl: string, token: string, http: HostHttpOptions = {}): Promise<GitHost> {
  const { Octokit } = await import('@octokit/rest');
  const quiet = () => {};
  const octokit: Octokit = new Octokit({
    auth: token,
    baseUrl: apiUrl.replace(/\/+$/, ''),
    userAgent: 'platctl',
    request: { fetch: hostFetch(http) },
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });

  async function call<T>(c: Omit<CallContext, 'tokenVar'>, write: boolean, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapError(err, c, write);
    }
  }

  const toRepo = (d: {
    private: boolean;
    default_branch: string;
    permissions?: { admin?: boolean; push?: boolean; pull?: boolean };
  }): HostRepo => ({
    private: d.private,
    defaultBranch: d.default_branch,
    permissions: {
      admin: Boolean(d.permissions?.admin),
      push: Boolean(d.permissions?.push),
      pull: Boolean(d.permissions?.pull),
    },
  });

  return {
    provider: 'github',
    apiUrl,
    async currentUser() {
      const c = { action: 'read the token’s user', permission: 'a valid token' };
      return (await call(c, false, () => octokit.rest.users.getAuthenticated())).data.login;
    },
    async getRepo(r) {
      const c = { action: `read ${r.owner}/${r.name}`, permission: 'read access to the repository' };
      try {
        return toRepo((await octokit.rest.repos.get({ owner: r.owner, repo: r.name })).data);
      } catch (err) {
        if (isRequestError(err) && err.status === 404) return undefined;
        throw mapError(err, c, false);
      }
    },
    async createRepo(r, o) {
      const c = {
        action: `create repository ${r.owner}/${r.name}`,
        permission: o.personal
          ? 'the repo scope (fine-grained: Administration write)'
          : `the right to create repositories in organisation ${r.owner} (fine-grained: Administration write)`,
      };
      const body = { name: r.name, private: true, auto_init: true, description: o.description };
      const created = await call(c, true, () =>
        o.personal
          ? octokit.rest.repos.createForAuthenticatedUser(body)
          : octokit.rest.repos.createInOrg({ org: r.owner, ...body }),
      );
      const repo = toRepo(created.data);
      if (repo.defaultBranch === o.branch) return repo;
      // GitHub initialises the account's default branch; fleet.branch starts at that first commit.
      const cb = { action: `create branch ${o.branch} in ${r.owner}/${r.name}`, permission: 'Contents write' };
      const head = await call(cb, true, () =>
        octokit.rest.git.getRef({ owner: r.owner, repo: r.name, ref: `heads/${repo.defaultBranch}` }),
      );
      await call(cb, true, () =>
        octokit.rest.git.createRef({
          owner: r.owner,
          repo: r.name,
          ref: `refs/heads/${o.branch}`,
          sha: head.data.object.sha,
        }),
      );
      return repo;
    },
    async listDeployKeys(r) {
      const c = { action: `list the deploy keys of ${r.owner}/${r.name}`, permission: repoAdmin(r, 'Administration') };
      const keys = await call(c, false, () =>
        octokit.paginate(octokit.rest.repos.listDeployKeys, { owner: r.owner, repo: r.name, per_page: 100 }),
      );
      return keys.map((k): HostKey => ({ id: k.id, title: k.title, key: k.key, readOnly: k.read_only }));
    },
    async addDeployKey(r, k) {
      const c = {
        action: `add deploy key "${k.title}" to ${r.owner}/${r.name}`,
        permission: repoAdmin(r, 'Administration write'),
      };
      const { data } = await call(c, true, () =>
        octokit.rest.repos.createDeployKey({
          owner: r.owner,
          repo: r.name,
          title: k.title,
          key: k.key,
          read_only: k.readOnly,
        }),
      );
      return { id: data.id, title: data.title, key: data.key, readOnly: data.read_only };
    },
    async deleteDeployKey(r, id) {
      const c = {
        action: `remove deploy key ${id} from ${r.owner}/${r.name}`,
        permission: repoAdmin(r, 'Administration write'),
      };
      try {
        await octokit.rest.repos.deleteDeployKey({ owner: r.owner, repo: r.name, key_id: id });
      } catch (err) {
        if (isRequestError(err) && err.status === 404) return;
        throw mapError(err, c, false);
      }
    },
    async listHooks(r) {
      const c = { action: `list the webhooks of ${r.owner}/${r.name}`, permission: repoAdmin(r, 'Webhooks') };
      const hooks = await call(c, false, () =>
        octokit.paginate(octokit.rest.repos.listWebhooks, { owner: r.owner, repo: r.name, per_page: 100 }),
      );
      return hooks.map(
        (h): HostHook => ({
          id: h.id,
          url: h.config.url ?? '',
          contentType: h.config.content_type ?? '',
          events: h.events,
          active: h.active,
        }),
      );
    },
    async createHook(r, h: HookSpec) {
      const c = { action: `add a push webhook to ${r.owner}/${r.name}`, permission: repoAdmin(r, 'Webhooks write') };
      const { data } = await call(c, true, () =>
        octokit.rest.repos.createWebhook({
          owner: r.owner,
          repo: r.name,
          name: 'web',
          active: true,
          events: h.events,
          config: { url: h.url, content_type: h.contentType, secret: h.secret, insecure_ssl: '0' },
        }),
      );
      if (!data.id) throw new PlatctlError('GITHOST_API', `${apiUrl} returned no webhook id`);
      return {
        id: data.id,
        url: data.config.url ?? h.url,
        contentType: data.config.content_type ?? h.contentType,
        events: data.events,
        active: data.active,
      };
    },
    async deleteHook(r, id) {
      const c = {
        action: `remove webhook ${id} from ${r.owner}/${r.name}`,
        permission: repoAdmin(r, 'Webhooks write'),
      };
      try {
        await octokit.rest.repos.deleteWebhook({ owner: r.owner, repo: r.name, hook_id: id });
      } catch (err) {
        if (isRequestError(err) && err.status === 404) return;
        throw mapError(err, c, false);
      }
    },
  };
}
