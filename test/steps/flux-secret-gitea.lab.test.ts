/**
 * `fleet.provider: gitea` against the lab's real Gitea: platctl (a real process) creates the fleet repository
 * and registers a read-only deploy key through Gitea's API; Gitea itself refuses a push with that key; a
 * re-run makes no write to Gitea (counted by platctl's request tracing); rotate-key leaves exactly the new key;
 * drift is reported, never replaced; teardown leaves no key; a token without admin rights exits 2 with
 * nothing made.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStoredKey, SECRET_REF } from '../../src/flux/deploy-key.js';
import { fingerprintOf, generateDeployKey } from '../../src/flux/keys.js';
import { withDeployKey } from '../../src/git/git.js';
import { keyMaterial } from '../../src/githost/types.js';
import { labKube, uniqueName, waitFluxNamespaceSettled } from '../helpers/flux-context.js';
import { platctl, sandbox } from '../helpers/platctl.js';
import { lab } from '../lab/env.js';
import { giteaCall, giteaRepoUrl } from '../lab/gitea.js';

const env = lab();
const name = uniqueName('gitea');
const repoName = uniqueName('fleet');
const owner = env.gitea.user;
const admin = { token: env.gitea.token };
const api = (method: string, p: string, body?: unknown, ok?: number[]) =>
  giteaCall<unknown>(env.gitea.url, admin, method, p, body, ok);
const repoPath = `/repos/${owner}/${repoName}`;
const fleet = {
  url: giteaRepoUrl(env.ports, owner, repoName),
  provider: 'gitea',
  apiUrl: env.gitea.url,
};
const box = sandbox(env, name, { fleet });
const kube = await labKube(env);
const reader = uniqueName('reader');
let trace: string;

interface Key {
  id: number;
  title: string;
  key: string;
  read_only: boolean;
}
const keys = async () => (await giteaCall<Key[]>(env.gitea.url, admin, 'GET', `${repoPath}/keys`)).body;
const run = (args: string[], extra: Record<string, string> = {}) =>
  platctl([...args, '--config', box.config], { ...box.env, ...extra });

beforeAll(async () => {
  trace = await mkdtemp(path.join(tmpdir(), 'platctl-gitea-trace-'));
  await waitFluxNamespaceSettled(kube);
  await kube.delete(SECRET_REF);
});
afterAll(async () => {
  await kube.delete(SECRET_REF);
  await api('DELETE', repoPath, undefined, [204, 404]);
  await api('DELETE', `/admin/users/${reader}?purge=true`, undefined, [204, 404]);
  await rm(trace, { recursive: true, force: true });
  await rm(box.dir, { recursive: true, force: true });
});

describe('fleet.provider gitea', () => {
  it('bootstrap creates the private repository with main and registers a read-only deploy key', async () => {
    expect((await api('GET', repoPath, undefined, [200, 404])).status).toBe(404);
    const r = await run(['bootstrap', name, '--only', 'flux-secret', '--yes']);
    expect(r.exitCode, r.all).toBe(0);
    const repo = (await api('GET', repoPath)).body as { private: boolean; default_branch: string };
    expect(repo).toMatchObject({ private: true, default_branch: 'main' });
    expect((await api('GET', `${repoPath}/branches/main`)).status).toBe(200);
    const stored = await readStoredKey(kube);
    const onHost = await keys();
    expect(onHost).toHaveLength(1);
    expect(onHost[0]).toMatchObject({ title: `platctl-flux-${name}`, read_only: true });
    expect(keyMaterial(onHost[0]?.key ?? '')).toBe(keyMaterial(stored?.publicKey ?? ''));
    // The token was used, never shown.
    expect(r.all).not.toContain(env.gitea.token);
    expect(r.all).toContain(`can read ${fleet.url}`);
  });

  it('Gitea itself refuses a push with the deploy key, while a fetch with it works', async () => {
    const stored = await readStoredKey(kube);
    const dir = await mkdtemp(path.join(tmpdir(), 'platctl-gitea-push-'));
    try {
      const out = await withDeployKey(stored?.privateKey ?? '', stored?.knownHosts ?? '', async (keyEnv) => {
        const git = (args: string[]) => execa('git', args, { cwd: dir, env: keyEnv, reject: false });
        const clone = await git(['clone', '-q', fleet.url, '.']);
        expect(clone.exitCode, clone.stderr).toBe(0);
        await writeFile(path.join(dir, 'x.txt'), 'not allowed\n');
        await git(['add', 'x.txt']);
        await git(['-c', 'user.name=t', '-c', 'user.email=t@lab.invalid', 'commit', '-q', '-m', 'x']);
        return git(['push', '-q', 'origin', 'HEAD:refs/heads/main']);
      });
      expect(out.exitCode).not.toBe(0);
      expect(out.stderr).toMatch(/is not authorized to write/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a re-run makes no request to Gitea; one with --verify only reads', async () => {
    const file = path.join(trace, 'rerun');
    const again = await run(['bootstrap', name, '--only', 'flux-secret', '--yes'], { PLATCTL_TRACE_REQUESTS: file });
    expect(again.exitCode, again.all).toBe(0);
    const lines = (f: string) =>
      readFile(f, 'utf8')
        .catch(() => '')
        .then((t) => t.split('\n').filter((l) => l.startsWith('githost ')));
    // A finished cluster's re-run asks Gitea nothing: no pre-flight probe, and the cheap check reads the Secret.
    expect(await lines(file)).toEqual([]);
    const deep = path.join(trace, 'verify');
    const verify = await run(['bootstrap', name, '--only', 'flux-secret', '--yes', '--verify'], {
      PLATCTL_TRACE_REQUESTS: deep,
    });
    expect(verify.exitCode, verify.all).toBe(0);
    const deepLines = await lines(deep);
    expect(deepLines.some((l) => l.endsWith(`${repoPath}/keys`))).toBe(true);
    expect(deepLines.filter((l) => !l.startsWith('githost GET '))).toEqual([]);
    expect(await keys()).toHaveLength(1);
  });

  it('another key under the cluster’s title is reported as drift and left in place', async () => {
    const [ours] = await keys();
    await api('DELETE', `${repoPath}/keys/${ours?.id}`);
    const stranger = generateDeployKey('ed25519', 'someone');
    await api('POST', `${repoPath}/keys`, { title: `platctl-flux-${name}`, key: stranger.publicKey, read_only: true });
    const r = await run(['bootstrap', name, '--only', 'flux-secret', '--yes', '--verify']);
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain(stranger.fingerprint);
    expect((await keys()).map((k) => fingerprintOf(k.key))).toEqual([stranger.fingerprint]);
    // Once the stale key is gone, a run registers the cluster's own again.
    await api('DELETE', `${repoPath}/keys/${(await keys())[0]?.id}`);
    const fixed = await run(['bootstrap', name, '--only', 'flux-secret', '--yes', '--verify']);
    expect(fixed.exitCode, fixed.all).toBe(0);
    expect(await keys()).toHaveLength(1);
  });

  it('rotate-key adds the new key, proves it, and leaves exactly that key on Gitea', async () => {
    const before = await readStoredKey(kube);
    const r = await run(['flux', 'rotate-key', name, '--yes']);
    expect(r.exitCode, r.all).toBe(0);
    const after = await readStoredKey(kube);
    expect(after?.fingerprint).not.toBe(before?.fingerprint);
    expect(r.stdout.trim()).toBe(after?.publicKey);
    const onHost = await keys();
    expect(onHost.map((k) => [keyMaterial(k.key), k.read_only])).toEqual([[keyMaterial(after?.publicKey ?? ''), true]]);
  });

  it('teardown removes the key it added and leaves no webhook', async () => {
    const r = await run(['teardown', name, '--yes']);
    expect(r.exitCode, r.all).toBe(0);
    expect(await keys()).toEqual([]);
    expect((await api('GET', `${repoPath}/hooks`)).body).toEqual([]);
    expect(await kube.get(SECRET_REF)).toBeUndefined();
  });

  it('a token without admin rights on the repository exits 2 naming the right, and nothing is made', async () => {
    const password = `Pw-${Math.random().toString(36).slice(2)}`;
    await api('POST', '/admin/users', {
      username: reader,
      email: `${reader}@lab.invalid`,
      password,
      must_change_password: false,
    });
    await api('PUT', `${repoPath}/collaborators/${reader}`, { permission: 'write' });
    const token = await giteaCall<{ sha1: string }>(
      env.gitea.url,
      { username: reader, password },
      'POST',
      `/users/${reader}/tokens`,
      { name: 'platctl-test', scopes: ['write:repository', 'read:user'] },
    );
    // A whole bootstrap: the pre-flight must stop it before the first step (the cluster) makes anything.
    const other = uniqueName('gitea-ro');
    const box2 = sandbox(env, other, { fleet });
    try {
      const r = await platctl(['bootstrap', other, '--config', box2.config, '--yes'], {
        ...box2.env,
        GITEA_TOKEN: token.body.sha1,
      });
      expect(r.exitCode, r.all).toBe(2);
      // One preflight reports it with every other problem (this sandbox has no Vault PGP keys either).
      expect(r.all).toMatch(/problems found before anything was created/);
      expect(r.all).toContain(
        `clusters[0].fleet.url: GITEA_TOKEN (user ${reader}) lacks admin rights on ${owner}/${repoName}`,
      );
      expect(r.all).toContain('clusters[0].vault.pgpKeys: must list one PGP public key per share');
      expect(r.all).not.toContain(token.body.sha1);
      expect(await keys()).toEqual([]);
      expect(await kube.get(SECRET_REF)).toBeUndefined();
      expect(existsSync(path.join(box2.home, other, 'state.json'))).toBe(false);
    } finally {
      await rm(box2.dir, { recursive: true, force: true });
    }
  });
});
