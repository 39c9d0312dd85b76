/**
 * The shared fleet-repo logic (both providers run exactly this): pre-flight, repository creation, deploy key
 * registration and removal, against an in-memory host that logs every write.
 */
import { describe, expect, it } from 'vitest';
import { generateDeployKey } from '../../src/flux/keys.js';
import {
  ensureDeployKey,
  ensureRepo,
  inspectKeys,
  isClusterKeyTitle,
  keyProblems,
  preflightRepo,
  removeDeployKey,
  rotatedTitle,
} from '../../src/githost/fleet-repo.js';
import type { GitHostSettings } from '../../src/githost/provider.js';
import { fakeGitHost, fakeRepo } from '../helpers/fake-git-host.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { expectPlatctlError } from '../helpers/platctl-error.js';

const ref = { owner: 'acme', name: 'fleet' };
const settings: GitHostSettings = { provider: 'gitea', apiUrl: 'https://x', tokenVar: 'GITEA_TOKEN', repo: ref };
const title = 'platctl-flux-demo';
const key = generateDeployKey('ed25519', title);
const want = { publicKey: key.publicKey, title, readOnly: true, cluster: 'demo' };

describe('pre-flight', () => {
  it('passes for a missing repository and for one the token administers, writing nothing', async () => {
    const host = fakeGitHost();
    expect(await preflightRepo(host, settings, false)).toEqual({ login: 'ops', exists: false });
    host.state.repo = fakeRepo(ref);
    expect(await preflightRepo(host, settings, true)).toEqual({ login: 'ops', exists: true });
    expect(host.state.writes).toEqual([]);
  });

  it('fails with exit 2 naming the missing admin right, the variable and the user', async () => {
    const host = fakeGitHost({ login: 'reader', repo: fakeRepo(ref, false) });
    const err = await expectPlatctlError(preflightRepo(host, settings, true), 'GITHOST_PERMISSION');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/GITEA_TOKEN \(user reader\) lacks admin rights on acme\/fleet/);
    expect(err.message).toContain('deploy key and webhook');
  });
});

describe('the repository', () => {
  it('is created private with fleet.branch, under the user when the owner is the token’s login', async () => {
    const log = memoryLogger();
    const personal = fakeGitHost({ login: 'acme' });
    expect(await ensureRepo(personal, settings, { branch: 'fleet', log })).toBe('created');
    expect(personal.state.writes).toEqual(['createRepo personal acme/fleet fleet']);
    const org = fakeGitHost({ login: 'ops' });
    await ensureRepo(org, settings, { branch: 'main', log });
    expect(org.state.writes).toEqual(['createRepo org acme/fleet main']);
    expect(log.lines.join('\n')).toContain('private repository acme/fleet');
  });

  it('an existing repository is left alone, public or not (a warning says so)', async () => {
    const log = memoryLogger();
    const repo = fakeRepo(ref);
    if (repo) repo.private = false;
    const host = fakeGitHost({ repo });
    expect(await ensureRepo(host, settings, { branch: 'main', log })).toBe('exists');
    expect(host.state.writes).toEqual([]);
    expect(log.lines.join('\n')).toContain('acme/fleet is public');
  });
});

describe('the deploy key', () => {
  it('is added read-only, then is up to date with no write', async () => {
    const host = fakeGitHost({ repo: fakeRepo(ref) });
    const log = memoryLogger();
    await ensureDeployKey(host, ref, want, log);
    expect(host.state.writes).toEqual([`addDeployKey ${title} ro`]);
    await ensureDeployKey(host, ref, want, log);
    expect(host.state.writes).toHaveLength(1);
    expect(log.lines.join('\n')).toMatch(/read-only\) up to date/);
  });

  it('is read-write only when asked', async () => {
    const host = fakeGitHost({ repo: fakeRepo(ref) });
    await ensureDeployKey(host, ref, { ...want, readOnly: false }, memoryLogger());
    expect(host.state.keys[0]?.readOnly).toBe(false);
  });

  it('a host copy with another comment is the same key; one with the wrong mode is registered again', async () => {
    const [type, blob] = key.publicKey.split(' ');
    const host = fakeGitHost({
      repo: fakeRepo(ref),
      keys: [{ id: 1, title, key: `${type} ${blob}`, readOnly: false }],
    });
    await ensureDeployKey(host, ref, want, memoryLogger());
    expect(host.state.writes).toEqual(['deleteDeployKey 1', `addDeployKey ${title} ro`]);
  });

  it('another key under the cluster’s title is drift: reported with both fingerprints, never replaced', async () => {
    const other = generateDeployKey('ed25519', 'someone');
    const host = fakeGitHost({
      repo: fakeRepo(ref),
      keys: [{ id: 7, title, key: other.publicKey, readOnly: true }],
    });
    const err = await expectPlatctlError(ensureDeployKey(host, ref, want, memoryLogger()), 'DEPLOY_KEY_CONFLICT');
    expect(err.message).toContain(other.fingerprint);
    expect(err.message).toContain(key.fingerprint);
    expect(err.hint).toContain('flux rotate-key demo');
    expect(host.state.writes).toEqual([]);
    const found = await inspectKeys(host, ref, key.publicKey, title);
    expect(keyProblems(found, ref, title, true)).toEqual([
      `deploy key "${title}" on acme/fleet holds another key (${other.fingerprint})`,
      `deploy key "${title}" is not registered on acme/fleet`,
    ]);
  });

  it('rotation titles belong to the cluster; other clusters’ titles do not', () => {
    const rotated = rotatedTitle(title, new Date('2026-01-02T03:04:05Z'));
    expect(rotated).toBe('platctl-flux-demo (rotated 2026-01-02T03:04:05Z)');
    expect(isClusterKeyTitle(rotated, title)).toBe(true);
    expect(isClusterKeyTitle('platctl-flux-demo-2', title)).toBe(false);
  });

  it('removal deletes only keys holding the cluster’s material', async () => {
    const other = generateDeployKey('ed25519', title);
    const host = fakeGitHost({
      repo: fakeRepo(ref),
      keys: [
        { id: 1, title, key: key.publicKey, readOnly: true },
        { id: 2, title: 'mine-too', key: other.publicKey, readOnly: true },
      ],
    });
    expect(await removeDeployKey(host, ref, key.publicKey)).toBe(1);
    expect(host.state.keys.map((k) => k.id)).toEqual([2]);
  });
});
