/**
 * The lab answers for real: each part is exercised with the tool platctl uses against it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRD_API_VERSION } from '../../src/clients/crds.js';
import { connectKube, refOf } from '../../src/clients/kube.js';
import { deleteAndWait } from '../../src/clients/namespaces.js';
import { FIXTURES } from './config.js';
import { baoProcessEnv, lab } from './env.js';
import { giteaCall } from './gitea.js';
import { authorizeKey, resetBao, resetFleetRepo, revokeKey } from './lab.js';

const env = lab();
const run = (cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) =>
  execa(cmd, args, { cwd: opts.cwd, env: { ...baoProcessEnv(env), ...opts.env }, reject: false });

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'platctl-lab-smoke-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  // The git test pushed a commit: leave the fleet repo as other test files expect it.
  await resetFleetRepo();
});

describe('kubernetes', () => {
  it('kubectl lists namespaces through .lab/kubeconfig', async () => {
    const r = await run(env.bins.kubectl, ['get', 'ns', '-o', 'name']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('namespace/default');
    expect(r.stdout).toContain('namespace/kube-system');
  });

  it('client-node reads a namespace, and a deleted namespace finishes deleting', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfig);
    expect(kc.getCurrentContext()).toBe('lab');
    const core = kc.makeApiClient(CoreV1Api);
    expect((await core.readNamespace({ name: 'default' })).status?.phase).toBe('Active');
    const name = `smoke-${Date.now()}`;
    await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'cm' }, data: { a: 'b' } } });
    await core.deleteNamespace({ name });
    // The namespace controller (kube-controller-manager) empties it and drops the finalizer.
    for (let i = 0; i < 150; i++) {
      const gone = await core.readNamespace({ name }).then(
        () => false,
        () => true,
      );
      if (gone) return;
      await sleep(200);
    }
    throw new Error(`namespace ${name} still there after 30s`);
  });
});

describe('aws (moto)', () => {
  const aws = () => ({
    endpoint: env.awsEndpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  });

  it('STS GetCallerIdentity answers', async () => {
    const id = await new STSClient(aws()).send(new GetCallerIdentityCommand({}));
    expect(id.Account).toMatch(/^\d{12}$/);
    expect(id.Arn).toContain('arn:aws:');
  });

  it('KMS CreateKey creates a key that can be described', async () => {
    const kms = new KMSClient(aws());
    const key = await kms.send(new CreateKeyCommand({ Description: 'platctl lab smoke' }));
    expect(key.KeyMetadata?.KeyId).toBeTruthy();
    const desc = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyMetadata?.KeyId }));
    expect(desc.KeyMetadata?.Description).toBe('platctl lab smoke');
  });
});

describe('openbao', () => {
  // An earlier test file may have initialised it: start from a wiped server.
  beforeAll(() => resetBao());

  it('bao status reports an uninitialised raft server', async () => {
    const r = await run(env.bins.bao, ['status', '-format=json']);
    // 2 = sealed (an uninitialised server is sealed).
    expect(r.exitCode, r.stderr).toBe(2);
    const s = JSON.parse(r.stdout) as { initialized: boolean; sealed: boolean; storage_type: string };
    expect(s).toMatchObject({ initialized: false, sealed: true, storage_type: 'raft' });
  });

  it('inits and unseals with Shamir keys, serves the raft configuration, and resetBao() wipes it', async () => {
    const init = await run(env.bins.bao, ['operator', 'init', '-key-shares=1', '-key-threshold=1', '-format=json']);
    expect(init.exitCode, init.stderr).toBe(0);
    const keys = JSON.parse(init.stdout) as { unseal_keys_b64: string[]; root_token: string };
    const unseal = await run(env.bins.bao, ['operator', 'unseal', '-format=json', keys.unseal_keys_b64[0] ?? '']);
    expect(unseal.exitCode, unseal.stderr).toBe(0);
    // Single-node raft: the node becomes leader shortly after unseal.
    let raft = await run(env.bins.bao, ['operator', 'raft', 'list-peers', '-format=json'], {
      env: { BAO_TOKEN: keys.root_token },
    });
    for (let i = 0; i < 50 && raft.exitCode !== 0; i++) {
      await sleep(200);
      raft = await run(env.bins.bao, ['operator', 'raft', 'list-peers', '-format=json'], {
        env: { BAO_TOKEN: keys.root_token },
      });
    }
    expect(raft.exitCode, raft.stderr).toBe(0);
    expect(raft.stdout).toContain('"node_id": "lab-0"');

    await resetBao();
    const after = await run(env.bins.bao, ['status', '-format=json']);
    expect(after.exitCode).toBe(2);
    expect(JSON.parse(after.stdout)).toMatchObject({ initialized: false });
  });
});

describe('opentofu', () => {
  it('applies a terraform_data module and reads its outputs back', async () => {
    const dir = join(tmp, 'tofu');
    await execa('mkdir', ['-p', dir]);
    await writeFile(
      join(dir, 'main.tf'),
      'resource "terraform_data" "x" {\n  input = "hello-lab"\n}\noutput "x" {\n  value = terraform_data.x.output\n}\n',
    );
    const version = await run(env.bins.tofu, ['version']);
    expect(version.stdout).toContain(`OpenTofu ${env.versions.tofu}`);
    for (const args of [
      ['init', '-input=false'],
      ['apply', '-auto-approve', '-input=false'],
    ]) {
      const r = await run(env.bins.tofu, args, { cwd: dir });
      expect(r.exitCode, `tofu ${args[0]}: ${r.stderr}`).toBe(0);
    }
    const out = await run(env.bins.tofu, ['output', '-json'], { cwd: dir });
    expect(JSON.parse(out.stdout)).toMatchObject({ x: { value: 'hello-lab' } });
  });
});

describe('helm', () => {
  const ns = ['--namespace', 'istio-system'];
  /**
   * Removes what the case made (its CRDs are marked keep), each wait bounded at 90 s so a hang is named rather than
   * timed out; run again in afterAll if the case failed. The CRDs go through platctl's own deletion
   * (src/clients/crds.ts): a plain `kubectl delete crd` of CRDs nobody has read can sit terminating for minutes.
   */
  const remove = async () => {
    const un = await run(env.bins.helm, [
      'uninstall',
      'istio-base',
      ...ns,
      '--wait',
      '--ignore-not-found',
      '--timeout=90s',
    ]);
    if (un.exitCode !== 0) throw new Error(`helm uninstall istio-base: ${un.stderr}`);
    const kube = await connectKube({ kubeconfig: env.kubeconfig });
    const crds = await kube.list(CRD_API_VERSION, 'CustomResourceDefinition', {
      labelSelector: 'app.kubernetes.io/instance=istio-base',
    });
    await Promise.all(crds.map((c) => deleteAndWait(kube, refOf(c), { timeoutMs: 90_000 })));
    await deleteAndWait(kube, { apiVersion: 'v1', kind: 'Namespace', name: 'istio-system' }, { timeoutMs: 90_000 });
  };
  // Even when the case fails or times out, the next file on this lab must not find its istio-system: the istio
  // step would take it over, and its destroy (rightly) leaves a namespace it did not make.
  afterAll(remove, 300_000);

  it('installs and uninstalls the istio base chart into the apiserver', async () => {
    const version = await run(env.bins.helm, ['version', '--short']);
    expect(version.stdout).toContain(env.versions.helm);
    const chart = join(FIXTURES, 'charts', 'istio', 'base');
    const gone = await run(env.bins.kubectl, ['wait', '--for=delete', 'namespace/istio-system', '--timeout=90s']);
    expect(gone.exitCode, `istio-system still terminating: ${gone.stderr}`).toBe(0);
    const inst = await run(env.bins.helm, ['install', 'istio-base', chart, ...ns, '--create-namespace', '--wait']);
    expect(inst.exitCode, inst.stderr).toBe(0);
    const list = await run(env.bins.helm, ['list', ...ns, '-o', 'json']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'istio-base', status: 'deployed' }]);
    const crd = await run(env.bins.kubectl, ['get', 'crd', 'peerauthentications.security.istio.io']);
    expect(crd.exitCode, crd.stderr).toBe(0);
    await remove();
  }, 300_000);
});

describe('git over ssh', () => {
  const keygen = async (name: string) => {
    const key = join(tmp, name);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
    return { key, pub: await readFile(`${key}.pub`, 'utf8') };
  };
  const git = (key: string, args: string[], cwd?: string) =>
    run('git', args, {
      cwd,
      env: {
        GIT_SSH_COMMAND: `ssh -i ${key} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${env.knownHosts} -o StrictHostKeyChecking=yes`,
        GIT_AUTHOR_NAME: 'smoke',
        GIT_AUTHOR_EMAIL: 'smoke@lab.invalid',
        GIT_COMMITTER_NAME: 'smoke',
        GIT_COMMITTER_EMAIL: 'smoke@lab.invalid',
      },
    });

  it('ssh-keyscan sees the host key that is in the lab known_hosts', async () => {
    const r = await execa('ssh-keyscan', ['-p', String(env.sshPort), '-t', 'ed25519', '127.0.0.1'], { reject: false });
    const key = r.stdout.trim().split(/\s+/).slice(1, 3).join(' ');
    expect(key).toMatch(/^ssh-ed25519 /);
    expect(await readFile(env.knownHosts, 'utf8')).toContain(key);
  });

  it('an authorised key clones and pushes; a read-only key clones but cannot push; a revoked key is refused', async () => {
    const rw = await keygen('rw');
    const ro = await keygen('ro');
    await authorizeKey(rw.pub);
    await authorizeKey(ro.pub, { readOnly: true });

    const work = join(tmp, 'rw-clone');
    const clone = await git(rw.key, ['clone', env.fleetUrl, work]);
    expect(clone.exitCode, clone.stderr).toBe(0);
    expect((await git(rw.key, ['rev-parse', '--abbrev-ref', 'HEAD'], work)).stdout).toBe('main');
    await writeFile(join(work, 'smoke.txt'), 'smoke\n');
    await git(rw.key, ['add', 'smoke.txt'], work);
    expect((await git(rw.key, ['commit', '-m', 'smoke'], work)).exitCode).toBe(0);
    const push = await git(rw.key, ['push', 'origin', 'main'], work);
    expect(push.exitCode, push.stderr).toBe(0);

    const roWork = join(tmp, 'ro-clone');
    const roClone = await git(ro.key, ['clone', env.fleetUrl, roWork]);
    expect(roClone.exitCode, roClone.stderr).toBe(0);
    expect(await readFile(join(roWork, 'smoke.txt'), 'utf8')).toBe('smoke\n');
    await git(ro.key, ['commit', '--allow-empty', '-m', 'ro'], roWork);
    const roPush = await git(ro.key, ['push', 'origin', 'main'], roWork);
    expect(roPush.exitCode).not.toBe(0);
    expect(roPush.stderr).toContain('read-only key');

    await revokeKey(rw.pub);
    const denied = await git(rw.key, ['ls-remote', env.fleetUrl]);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/Permission denied/);
    await revokeKey(ro.pub);
  });

  it('the operator key from .lab/env works through GIT_SSH_COMMAND', async () => {
    const r = await run('git', ['ls-remote', env.fleetUrl, 'refs/heads/main']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main$/);
  });
});

describe('gitea', () => {
  const repo = `smoke-${Math.random().toString(36).slice(2, 8)}`;
  const admin = { token: env.gitea.token };
  afterAll(async () => {
    await giteaCall(env.gitea.url, admin, 'DELETE', `/repos/${env.gitea.user}/${repo}`, undefined, [204, 404]);
  });

  it('its API answers the lab admin’s token (an admin) and refuses a request without one', async () => {
    const me = await giteaCall<{ login: string; is_admin: boolean }>(env.gitea.url, admin, 'GET', '/user');
    expect(me.body).toMatchObject({ login: env.gitea.user, is_admin: true });
    const anon = await fetch(`${env.gitea.url}/api/v1/user`);
    expect([401, 403]).toContain(anon.status);
  });

  it('its ssh server shows the host key in the lab known_hosts, and the operator pushes through GIT_SSH_COMMAND', async () => {
    const scan = await run('ssh-keyscan', ['-p', String(env.gitea.sshPort), '127.0.0.1']);
    const key = scan.stdout.trim().split('\n')[0]?.split(/\s+/).slice(1, 3).join(' ') ?? '';
    expect(key).toMatch(/^ssh-/);
    expect(await readFile(env.knownHosts, 'utf8')).toContain(`[127.0.0.1]:${env.gitea.sshPort} ${key}`);
    await giteaCall(env.gitea.url, admin, 'POST', '/user/repos', { name: repo, private: true, auto_init: true });
    const url = `ssh://git@127.0.0.1:${env.gitea.sshPort}/${env.gitea.user}/${repo}.git`;
    const work = join(tmp, 'gitea-clone');
    expect((await run('git', ['clone', '-q', url, work])).exitCode).toBe(0);
    await writeFile(join(work, 'smoke.txt'), 'smoke\n');
    await run('git', ['add', 'smoke.txt'], { cwd: work });
    await run('git', ['-c', 'user.name=s', '-c', 'user.email=s@lab.invalid', 'commit', '-qm', 's'], { cwd: work });
    const push = await run('git', ['push', '-q', 'origin', 'main'], { cwd: work });
    expect(push.exitCode, push.stderr).toBe(0);
  });
});
