/** `platctl doctor`'s git host row: the token variable a provider needs is set, and its value never shown. */
import { describe, expect, it } from 'vitest';
import { checkGitHostToken } from '../../src/commands/doctor-checks.js';
import { validateConfig } from '../../src/config/load.js';
import { rawCluster, rawPlatform, withField } from '../helpers/config.js';

const withFleet = (fleet: Record<string, unknown>) => {
  const c = validateConfig(rawPlatform(withField(rawCluster('demo'), ['fleet'], fleet)), 'p.yaml').clusters[0];
  if (!c) throw new Error('no cluster');
  return c;
};

describe('doctor: git host token', () => {
  it('has no row for ssh, which needs no token', async () => {
    expect(await checkGitHostToken(withFleet({ url: 'ssh://git@h/acme/fleet.git' }), {})).toBeUndefined();
  });

  it('fails (required) naming the variable when it is unset or blank', async () => {
    const gitea = withFleet({
      url: 'ssh://git@g.example.com/acme/fleet.git',
      provider: 'gitea',
      apiUrl: 'https://g.example.com',
    });
    for (const env of [{}, { GITEA_TOKEN: '  ' }]) {
      expect(await checkGitHostToken(gitea, env)).toEqual({
        name: 'git host token',
        ok: false,
        required: true,
        detail:
          'GITEA_TOKEN is not set: fleet.provider gitea needs a token with admin rights on acme/fleet, from the environment only',
      });
    }
  });

  it('passes when it is set, without showing it', async () => {
    const github = withFleet({ url: 'git@github.com:acme/fleet.git', provider: 'github' });
    const row = await checkGitHostToken(github, { GITHUB_TOKEN: 'ghp_do-not-print-me' });
    expect(row).toMatchObject({ ok: true, required: true });
    expect(row?.detail).toBe('GITHUB_TOKEN is set (fleet.provider github, https://api.github.com)');
    expect(JSON.stringify(row)).not.toContain('do-not-print-me');
  });
});
