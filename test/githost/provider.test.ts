/**
 * Choosing the provider, validating before the first step (config fields, the token variable), and the Gitea
 * client's request shapes (the lab proves it against a real Gitea; these pin what it sends).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { createGiteaHost, giteaApiBase } from '../../src/githost/gitea.js';
import { createGitHost, gitHostSettings, readToken, repoFromUrl } from '../../src/githost/provider.js';
import { maskSecrets } from '../../src/secrets.js';
import { expectPlatctlError, platctlFailure } from '../helpers/platctl-error.js';
import { stubFetch } from '../helpers/recording-fetch.js';

const cluster = (fleet: Record<string, unknown>, flux: Record<string, unknown> = {}) => ({
  name: 'demo',
  aws: { accountId: '123456789012', region: 'us-east-1' },
  kubernetes: { version: '1.34' },
  fleet: { url: 'ssh://git@gitea.example.com:2222/acme/fleet.git', ...fleet },
  flux,
});
const parse = (c: ReturnType<typeof cluster>) => validateConfig({ clusters: [c] }, 'p.yaml').clusters[0]!;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('fleet.provider', () => {
  it('defaults to ssh: no git host, no token needed', async () => {
    const c = parse(cluster({}));
    expect(c.fleet.provider).toBe('ssh');
    expect(c.fleet.readWriteKey).toBe(false);
    expect(gitHostSettings(c)).toBeUndefined();
    expect(await createGitHost(c, {})).toBeUndefined();
  });

  it('names the fields that are wrong: apiUrl for gitea, webhook without a provider, a URL without owner/name', async () => {
    const bad = await platctlFailure(
      Promise.resolve().then(() =>
        validateConfig(
          {
            clusters: [
              cluster({ provider: 'gitea' }),
              { ...cluster({}, { webhook: { url: 'https://hooks.example.com' } }), name: 'b' },
              { ...cluster({ provider: 'github', url: 'git@github.com:fleet.git' }), name: 'c' },
            ],
          },
          'p.yaml',
        ),
      ),
    );
    expect(bad.code).toBe('CONFIG_INVALID');
    expect(bad.message).toContain('clusters[0].fleet.apiUrl: is required with fleet.provider gitea');
    expect(bad.message).toContain('clusters[1].flux.webhook: needs fleet.provider gitea or github');
    expect(bad.message).toContain('clusters[2].fleet.url: must name the repository as <owner>/<name>');
  });

  it('takes the repository from the URL and GitHub’s API by default', () => {
    expect(repoFromUrl('git@github.com:acme/fleet.git')).toEqual({ owner: 'acme', name: 'fleet' });
    expect(repoFromUrl('ssh://git@h:22/acme/fleet')).toEqual({ owner: 'acme', name: 'fleet' });
    const gh = gitHostSettings(parse(cluster({ provider: 'github', url: 'git@github.com:acme/fleet.git' })));
    expect(gh).toMatchObject({ apiUrl: 'https://api.github.com', tokenVar: 'GITHUB_TOKEN' });
  });

  it('a missing token fails with exit 2 naming the variable; a present one is masked from then on', async () => {
    const c = parse(cluster({ provider: 'gitea', apiUrl: 'https://gitea.example.com' }));
    const err = await expectPlatctlError(createGitHost(c, {}), 'GITHOST_TOKEN');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('fleet.provider is gitea but GITEA_TOKEN is not set');
    const s = gitHostSettings(c)!;
    readToken(s, { GITEA_TOKEN: 'gta_0123456789abcdef' });
    expect(maskSecrets('Authorization: token gta_0123456789abcdef')).not.toContain('gta_0123456789abcdef');
  });
});

describe('Gitea client', () => {
  it('sends the token in the Authorization header to /api/v1 and JSON bodies as Gitea names them', async () => {
    expect(giteaApiBase('https://g.example.com/')).toBe('https://g.example.com/api/v1');
    const seen = stubFetch([
      { method: 'POST', path: '/api/v1/orgs/acme/repos', status: 201, body: { private: true, default_branch: 'main' } },
      {
        method: 'POST',
        path: '/api/v1/repos/acme/fleet/keys',
        status: 201,
        body: { id: 4, title: 't', key: 'ssh-ed25519 AAAA', read_only: true },
      },
      {
        method: 'POST',
        path: '/api/v1/repos/acme/fleet/hooks',
        status: 201,
        body: {
          id: 5,
          type: 'gitea',
          config: { url: 'https://h/hook/x', content_type: 'json' },
          events: ['push'],
          active: true,
        },
      },
      { method: 'GET', path: '/api/v1/repos/acme/fleet/keys?limit=50&page=1', body: [] },
    ]);
    const g = createGiteaHost('https://g.example.com', 'gta_secret');
    const ref = { owner: 'acme', name: 'fleet' };
    await g.createRepo(ref, { branch: 'main', personal: false, description: 'd' });
    await g.addDeployKey(ref, { title: 't', key: 'ssh-ed25519 AAAA', readOnly: true });
    await g.createHook(ref, { url: 'https://h/hook/x', secret: 'sec-123', contentType: 'json', events: ['push'] });
    expect(await g.listDeployKeys(ref)).toEqual([]);
    expect(seen.every((r) => r.headers.authorization === 'token gta_secret')).toBe(true);
    expect(seen[0]?.body).toEqual({
      name: 'fleet',
      private: true,
      auto_init: true,
      default_branch: 'main',
      description: 'd',
    });
    expect(seen[1]?.body).toEqual({ title: 't', key: 'ssh-ed25519 AAAA', read_only: true });
    expect(seen[2]?.body).toEqual({
      type: 'gitea',
      config: { url: 'https://h/hook/x', content_type: 'json', secret: 'sec-123' },
      events: ['push'],
      active: true,
    });
  });

  it('maps a scope error (403) to exit 2 naming the permission, with Gitea’s own words', async () => {
    stubFetch([
      {
        method: 'POST',
        path: '/api/v1/repos/acme/fleet/keys',
        status: 403,
        body: { message: 'token does not have at least one of required scope(s), required=[write:repository]' },
      },
    ]);
    const g = createGiteaHost('https://g.example.com', 'gta_secret');
    const err = await expectPlatctlError(
      g.addDeployKey({ owner: 'acme', name: 'fleet' }, { title: 't', key: 'k', readOnly: true }),
      'GITHOST_PERMISSION',
    );
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('GITEA_TOKEN lacks admin rights on acme/fleet');
    expect(err.message).toContain('required=[write:repository]');
  });
});
