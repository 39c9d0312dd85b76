/** The git wrapper: URL parsing, and deploy-key isolation proven against the lab's real sshd. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../src/clients/exec.js';
import { generateDeployKey } from '../../src/flux/keys.js';
import {
  isNonFastForward,
  knownHostsPattern,
  lsRemoteWithKey,
  parseSshUrl,
  sshFailureReason,
  withDeployKey,
} from '../../src/git/git.js';
import { lab } from '../lab/env.js';
import { authorizeKey, revokeKey } from '../lab/lab.js';

describe('parseSshUrl', () => {
  it('reads ssh:// URLs with and without a port, and IPv6 hosts', () => {
    expect(parseSshUrl('ssh://git@github.com/acme/fleet.git')).toMatchObject({
      user: 'git',
      host: 'github.com',
      port: 22,
      path: 'acme/fleet.git',
    });
    expect(parseSshUrl('ssh://root@127.0.0.1:2222/fleet.git')).toMatchObject({
      host: '127.0.0.1',
      port: 2222,
      path: 'fleet.git',
    });
    expect(parseSshUrl('ssh://git@[::1]:2200/x.git')).toMatchObject({ host: '::1', port: 2200 });
  });

  it('turns scp-like URLs into the ssh:// form Flux needs', () => {
    const u = parseSshUrl('git@github.com:acme/fleet.git');
    expect(u).toMatchObject({
      user: 'git',
      host: 'github.com',
      port: 22,
      sshUrl: 'ssh://git@github.com/acme/fleet.git',
    });
  });

  it('rejects what is not an ssh URL', () => {
    expect(() => parseSshUrl('https://github.com/acme/fleet.git')).toThrow(/not an ssh URL/);
  });

  it('writes known_hosts patterns the way ssh looks them up', () => {
    expect(knownHostsPattern({ host: 'github.com', port: 22 })).toBe('github.com');
    expect(knownHostsPattern({ host: '127.0.0.1', port: 2222 })).toBe('[127.0.0.1]:2222');
  });
});

describe('git output', () => {
  it('recognises a push that lost a race, and nothing else', () => {
    expect(isNonFastForward(' ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs')).toBe(
      true,
    );
    expect(isNonFastForward(' ! [rejected] HEAD -> main (non-fast-forward)')).toBe(true);
    expect(
      isNonFastForward('platctl lab: read-only key: push refused\nfatal: Could not read from remote repository.'),
    ).toBe(false);
  });

  it("keeps ssh's reason and drops git's generic trailer", () => {
    const stderr =
      'root@127.0.0.1: Permission denied (publickey).\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.';
    expect(sshFailureReason(stderr)).toBe('root@127.0.0.1: Permission denied (publickey).');
  });
});

describe('deploy key use (lab sshd)', () => {
  const env = lab();
  const exec = createExec();
  const key = generateDeployKey('ed25519', 'git-test');
  const saved = process.env.GIT_SSH_COMMAND;
  beforeAll(() => {
    // The operator's own credentials are set: the deploy-key path must not fall back on them.
    process.env.GIT_SSH_COMMAND = env.gitSshCommand;
  });
  afterAll(async () => {
    await revokeKey(key.publicKey);
    if (saved === undefined) delete process.env.GIT_SSH_COMMAND;
    else process.env.GIT_SSH_COMMAND = saved;
  });

  it('keeps the key in a 0600 file only while in use', async () => {
    let seen = '';
    await withDeployKey(key.privateKey, 'x ssh-ed25519 AAAA', async (e) => {
      seen = /-i '([^']+)'/.exec(e.GIT_SSH_COMMAND ?? '')?.[1] ?? '';
      expect((await stat(seen)).mode & 0o777).toBe(0o600);
      expect((await stat(path.dirname(seen))).mode & 0o777).toBe(0o700);
      expect(e.GIT_SSH_COMMAND).toContain('IdentitiesOnly=yes');
    });
    expect(seen.startsWith(tmpdir())).toBe(true);
    await expect(stat(seen)).rejects.toThrow(/ENOENT/);
    expect((await readdir(tmpdir())).filter((d) => d === path.basename(path.dirname(seen)))).toEqual([]);
  });

  it('ls-remote with an unknown key fails even though the operator key would work; with the key added it works', async () => {
    const knownHosts = await readFile(env.knownHosts, 'utf8');
    const denied = await lsRemoteWithKey(exec, env.fleetUrl, 'main', key.privateKey, knownHosts);
    expect(denied).toMatchObject({ ok: false, reason: expect.stringMatching(/Permission denied/) });
    await authorizeKey(key.publicKey, { readOnly: true });
    const ok = await lsRemoteWithKey(exec, env.fleetUrl, 'main', key.privateKey, knownHosts);
    expect(ok).toMatchObject({ ok: true, head: expect.stringMatching(/^[0-9a-f]{40}$/) });
  });

  it('refuses a server whose host key is not in the given known_hosts', async () => {
    const wrong = `[127.0.0.1]:${env.sshPort} ${generateDeployKey().publicKey.split(' ').slice(0, 2).join(' ')}\n`;
    const r = await lsRemoteWithKey(exec, env.fleetUrl, 'main', key.privateKey, wrong);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/host key|Host key verification failed/i) });
  });
});
