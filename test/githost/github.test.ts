/**
 * GitHub behind the narrow GitHost interface: no GitHub can run here, so these pin the REST requests octokit
 * sends (method, path, body, auth) and how GitHub's answers map to platctl's errors. The decisions on top
 * (what to create, what is drift) are shared with Gitea, which the lab proves against a real server.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGitHubHost } from '../../src/githost/github.js';
import { expectPlatctlError } from '../helpers/platctl-error.js';
import { stubFetch } from '../helpers/recording-fetch.js';

const API = 'https://api.github.com';
const repo = { owner: 'acme', name: 'fleet' };
const repoBody = (extra: Record<string, unknown> = {}) => ({
  private: true,
  default_branch: 'main',
  permissions: { admin: true, push: true, pull: true },
  ...extra,
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('GitHub git host', () => {
  it('reads the repository with the token as a bearer and maps its permissions; 404 is "missing"', async () => {
    const seen = stubFetch([
      { method: 'GET', path: '/repos/acme/fleet', body: repoBody({ permissions: { admin: false, push: true } }) },
      { method: 'GET', path: '/repos/acme/other', status: 404, body: { message: 'Not Found' } },
    ]);
    const gh = await createGitHubHost(API, 'ghp_secret123');
    expect(await gh.getRepo(repo)).toEqual({
      private: true,
      defaultBranch: 'main',
      permissions: { admin: false, push: true, pull: false },
    });
    expect(await gh.getRepo({ owner: 'acme', name: 'other' })).toBeUndefined();
    expect(seen[0]?.headers.authorization).toBe('token ghp_secret123');
    expect(seen[0]?.headers['user-agent']).toMatch(/^platctl/);
  });

  it('creates a private, initialised repo in an organisation, and starts fleet.branch at its first commit', async () => {
    const seen = stubFetch([
      { method: 'POST', path: '/orgs/acme/repos', status: 201, body: repoBody() },
      { method: 'GET', path: '/repos/acme/fleet/git/ref/heads%2Fmain', body: { object: { sha: 'abc123' } } },
      { method: 'POST', path: '/repos/acme/fleet/git/refs', status: 201, body: { ref: 'refs/heads/fleet' } },
    ]);
    const gh = await createGitHubHost(API, 't0ken-abc');
    await gh.createRepo(repo, { branch: 'fleet', personal: false, description: 'd' });
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /orgs/acme/repos',
      'GET /repos/acme/fleet/git/ref/heads%2Fmain',
      'POST /repos/acme/fleet/git/refs',
    ]);
    expect(seen[0]?.body).toEqual({ name: 'fleet', private: true, auto_init: true, description: 'd' });
    expect(seen[2]?.body).toEqual({ ref: 'refs/heads/fleet', sha: 'abc123' });
  });

  it('creates a personal repository under /user/repos and adds no branch when the default is fleet.branch', async () => {
    const seen = stubFetch([{ method: 'POST', path: '/user/repos', status: 201, body: repoBody() }]);
    const gh = await createGitHubHost(API, 't0ken-abc');
    await gh.createRepo(repo, { branch: 'main', personal: true, description: 'd' });
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual(['POST /user/repos']);
    expect(seen[0]?.body).toMatchObject({ name: 'fleet', private: true, auto_init: true });
  });

  it('lists (all pages of), adds and deletes deploy keys with read_only as asked', async () => {
    const page2 = `<${API}/repos/acme/fleet/keys?per_page=100&page=2>; rel="next"`;
    const seen = stubFetch([
      {
        method: 'GET',
        path: '/repos/acme/fleet/keys?per_page=100',
        body: [{ id: 1, title: 'a', key: 'ssh-ed25519 AAAA1', read_only: true }],
        headers: { link: page2 },
      },
      {
        method: 'GET',
        path: '/repos/acme/fleet/keys?per_page=100&page=2',
        body: [{ id: 2, title: 'b', key: 'ssh-ed25519 AAAA2', read_only: false }],
      },
      {
        method: 'POST',
        path: '/repos/acme/fleet/keys',
        status: 201,
        body: { id: 3, title: 'platctl-flux-demo', key: 'ssh-ed25519 AAAA3', read_only: true },
      },
      { method: 'DELETE', path: '/repos/acme/fleet/keys/3', status: 204 },
    ]);
    const gh = await createGitHubHost(API, 't0ken-abc');
    expect(await gh.listDeployKeys(repo)).toEqual([
      { id: 1, title: 'a', key: 'ssh-ed25519 AAAA1', readOnly: true },
      { id: 2, title: 'b', key: 'ssh-ed25519 AAAA2', readOnly: false },
    ]);
    const added = await gh.addDeployKey(repo, {
      title: 'platctl-flux-demo',
      key: 'ssh-ed25519 AAAA3 c',
      readOnly: true,
    });
    expect(added.id).toBe(3);
    await gh.deleteDeployKey(repo, 3);
    const post = seen.find((r) => r.method === 'POST');
    expect(post?.body).toEqual({ title: 'platctl-flux-demo', key: 'ssh-ed25519 AAAA3 c', read_only: true });
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: `${API}/repos/acme/fleet/keys/3` });
  });

  it('creates a JSON push webhook named web with the secret, and lists hooks with their config', async () => {
    const hook = {
      id: 9,
      active: true,
      events: ['push'],
      config: { url: 'https://hooks.example.com/hook/abc', content_type: 'json' },
    };
    const seen = stubFetch([
      { method: 'POST', path: '/repos/acme/fleet/hooks', status: 201, body: hook },
      { method: 'GET', path: '/repos/acme/fleet/hooks?per_page=100', body: [hook] },
      { method: 'DELETE', path: '/repos/acme/fleet/hooks/9', status: 204 },
    ]);
    const gh = await createGitHubHost(API, 't0ken-abc');
    const spec = {
      url: 'https://hooks.example.com/hook/abc',
      secret: 's3cret-token',
      contentType: 'json' as const,
      events: ['push'],
    };
    expect(await gh.createHook(repo, spec)).toEqual({
      id: 9,
      url: spec.url,
      contentType: 'json',
      events: ['push'],
      active: true,
    });
    expect(seen[0]?.body).toEqual({
      name: 'web',
      active: true,
      events: ['push'],
      config: { url: spec.url, content_type: 'json', secret: 's3cret-token', insecure_ssl: '0' },
    });
    expect(await gh.listHooks(repo)).toHaveLength(1);
    await gh.deleteHook(repo, 9);
    expect(seen.at(-1)?.method).toBe('DELETE');
  });

  it('maps 401 to GITHOST_TOKEN and 403 (or 404 on a write) to GITHOST_PERMISSION, naming the permission', async () => {
    stubFetch([
      { method: 'GET', path: '/user', status: 401, body: { message: 'Bad credentials' } },
      {
        method: 'POST',
        path: '/repos/acme/fleet/keys',
        status: 403,
        body: { message: 'Resource not accessible by personal access token' },
        headers: { 'x-accepted-github-permissions': 'administration=write' },
      },
      { method: 'POST', path: '/repos/acme/fleet/hooks', status: 404, body: { message: 'Not Found' } },
    ]);
    const gh = await createGitHubHost(API, 't0ken-abc');
    const e401 = await expectPlatctlError(gh.currentUser(), 'GITHOST_TOKEN');
    expect(e401.exitCode).toBe(2);
    expect(e401.message).toContain('GITHUB_TOKEN');
    const e403 = await expectPlatctlError(
      gh.addDeployKey(repo, { title: 't', key: 'ssh-ed25519 AAAA', readOnly: true }),
      'GITHOST_PERMISSION',
    );
    expect(e403.exitCode).toBe(2);
    expect(e403.message).toContain('admin rights on acme/fleet');
    expect(e403.message).toContain('administration=write');
    const spec = { url: 'https://h/hook/x', secret: 'sss-sss', contentType: 'json' as const, events: ['push'] };
    const e404 = await expectPlatctlError(gh.createHook(repo, spec), 'GITHOST_PERMISSION');
    expect(e404.message).toContain('Webhooks write');
  });

  it('goes to a GitHub Enterprise API base when fleet.apiUrl names one', async () => {
    const seen = stubFetch([{ method: 'GET', path: '/api/v3/user', body: { login: 'ops' } }]);
    const gh = await createGitHubHost('https://ghe.example.com/api/v3', 't0ken-abc');
    expect(await gh.currentUser()).toBe('ops');
    expect(seen[0]?.url).toBe('https://ghe.example.com/api/v3/user');
  });
});
