/**
 * Bootstrap's preflight without the lab: real files and real PGP keys in a temp dir, tools and STS behind the
 * narrow Exec / AwsClients interfaces. Every problem is reported at once, each naming its field.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AwsClients } from '../../src/clients/aws.js';
import type { Exec } from '../../src/clients/exec.js';
import { validateConfig } from '../../src/config/load.js';
import { PlatctlError } from '../../src/errors.js';
import { fileDigest, preflightMemo } from '../../src/preflight/memo.js';
import { assertPreflight, preflight } from '../../src/preflight/preflight.js';
import { rawCluster, rawPlatform, withField } from '../helpers/config.js';
import { makeKey, makeKeys, writePrivateKeyFile } from '../helpers/pgp-keys.js';
import { platctlFailure } from '../helpers/platctl-error.js';

const ALL_STEPS = ['cluster', 'access', 'kms', 'istio', 'vault', 'vault-init', 'flux-secret', 'flux'];
let dir: string;
let keys: { good: string[]; expired: string; revoked: string; private: string };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'platctl-preflight-'));
  const k = path.join(dir, 'keys');
  mkdirSync(k);
  const good = await makeKeys(k, 'good', 3);
  const priv = await writePrivateKeyFile(k, good[0] as NonNullable<(typeof good)[0]>);
  writeFileSync(path.join(k, 'private.asc'), priv.content);
  keys = {
    good: good.map((g) => g.publicFile),
    expired: (await makeKey(k, 'expired', 'expired')).publicFile,
    revoked: (await makeKey(k, 'revoked', 'revoked')).publicFile,
    private: path.join(k, 'private.asc'),
  };
  mkdirSync(path.join(dir, 'module'));
  writeFileSync(path.join(dir, 'module', 'main.tf'), '# module\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A cluster whose vault and module point at `vault`/`module`. */
function cluster(vault: Record<string, unknown>, extra: [string[], unknown][] = []) {
  let raw = withField(rawCluster('demo'), ['vault'], vault);
  raw = withField(raw, ['terraform'], { module: path.join(dir, 'module') });
  for (const [p, v] of extra) raw = withField(raw, p, v);
  const c = validateConfig(rawPlatform(raw), 'platform.yaml').clusters[0];
  if (!c) throw new Error('no cluster');
  return c;
}

/** Exec answering `--version` style calls from a table; a missing tool is TOOL_MISSING like the real one. */
function fakeExec(versions: Record<string, string>): Exec {
  return {
    async run(file) {
      const out = versions[file];
      if (out === undefined) throw new PlatctlError('TOOL_MISSING', `${file} is not installed or not on PATH`);
      return { stdout: out, stderr: '', exitCode: 0 };
    },
  };
}
const tools = {
  tofu: 'OpenTofu v1.10.10',
  helm: 'v3.19.5+g',
  git: 'git version 2.39.5',
  ssh: 'OpenSSH_9.2p1 Debian',
  'ssh-keyscan': '',
};

function fakeAws(account: string): AwsClients {
  const sts = { send: async () => ({ Account: account, Arn: `arn:aws:iam::${account}:user/ops` }) };
  return { region: 'us-east-1', sts: async () => sts } as unknown as AwsClients;
}

const goodVault = () => ({ pgpKeys: keys.good, keyThreshold: 2, rootTokenPgpKey: keys.good[0] });

describe('preflight', () => {
  it('passes a sound config: no problem at all', async () => {
    const problems = await preflight({
      cluster: cluster(goodVault()),
      index: 0,
      steps: ALL_STEPS,
      exec: fakeExec(tools),
      aws: fakeAws('123456789012'),
    });
    expect(problems).toEqual([]);
  });

  it('reports every problem at once, each naming its field', async () => {
    const c = cluster(
      {
        pgpKeys: [keys.good[1], '/nonexistent/share.asc', keys.expired, keys.revoked, keys.private],
        keyThreshold: 2,
        rootTokenPgpKey: keys.good[1],
      },
      [
        [['terraform', 'module'], path.join(dir, 'no-module')],
        [['flux', 'manifests'], path.join(dir, 'keys')],
      ],
    );
    const problems = await preflight({
      cluster: c,
      index: 2,
      steps: ALL_STEPS,
      exec: fakeExec({ ...tools, helm: 'v3.10.1', git: undefined as unknown as string }),
      aws: fakeAws('999999999999'),
    });
    const byField = Object.fromEntries(problems.map((p) => [p.field, p.message]));
    expect(byField['clusters[2].terraform.module']).toMatch(/no-module does not exist/);
    expect(byField['clusters[2].flux.manifests']).toMatch(/is not a file/);
    expect(byField['clusters[2].vault.pgpKeys[1]']).toMatch(/cannot read the file \(ENOENT\)/);
    expect(byField['clusters[2].vault.pgpKeys[2]']).toMatch(/expired/);
    expect(byField['clusters[2].vault.pgpKeys[3]']).toMatch(/revoked/);
    expect(byField['clusters[2].vault.pgpKeys[4]']).toMatch(/PRIVATE key/);
    expect(byField['clusters[2].aws.accountId']).toMatch(/credentials are for account 999999999999/);
    const path_ = problems.filter((p) => p.field === 'PATH').map((p) => p.message);
    expect(path_).toEqual([
      expect.stringMatching(/^helm: helm v3\.10\.1 \(need ≥ 3\.12\) \(needed by istio, vault\)/),
      expect.stringMatching(/^git: not found on PATH/),
    ]);
    expect(JSON.stringify(problems)).not.toMatch(/PRIVATE KEY BLOCK/);
  });

  it('refuses vault-init without keys, a threshold of 1, and one holder with two shares', async () => {
    const none = await preflight({
      cluster: cluster({}),
      index: 0,
      steps: ['vault-init'],
      exec: fakeExec(tools),
      aws: fakeAws('123456789012'),
    });
    expect(none.map((p) => p.field)).toEqual(['clusters[0].vault.pgpKeys', 'clusters[0].vault.rootTokenPgpKey']);
    const twice = await preflight({
      cluster: cluster({ pgpKeys: [keys.good[0], keys.good[0]], keyThreshold: 1, rootTokenPgpKey: keys.good[2] }),
      index: 0,
      steps: ['vault-init'],
      exec: fakeExec(tools),
      aws: fakeAws('123456789012'),
    });
    expect(twice.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'clusters[0].vault.keyThreshold: is 1 with 2 shares, which Vault refuses: use 2 or more',
      expect.stringMatching(
        /^clusters\[0\]\.vault\.pgpKeys\[1\]: is the same key as clusters\[0\]\.vault\.pgpKeys\[0\]/,
      ),
    ]);
  });

  it('blames an unreadable root token key on vault.rootTokenPgpKey, not vault.pgpKeys', async () => {
    const missing = path.join(dir, 'no-root.asc');
    const problems = await preflight({
      cluster: cluster({ pgpKeys: keys.good, keyThreshold: 2, rootTokenPgpKey: missing }),
      index: 1,
      steps: ['vault-init'],
      exec: fakeExec(tools),
      aws: fakeAws('123456789012'),
    });
    expect(problems).toEqual([
      {
        field: 'clusters[1].vault.rootTokenPgpKey',
        message: `PGP key ${missing}: cannot read the file (ENOENT) (check the path in clusters[1].vault.rootTokenPgpKey)`,
      },
    ]);
  });

  it('checks only the tools, keys and credentials of the steps that will run', async () => {
    const problems = await preflight({
      cluster: cluster({}),
      index: 0,
      steps: ['cluster'],
      exec: fakeExec({ tofu: tools.tofu }),
      aws: fakeAws('123456789012'),
    });
    expect(problems).toEqual([]);
    // Flux alone touches no AWS API: credentials for another account (or none) are not its business.
    const flux = await preflight({
      cluster: cluster({}),
      index: 0,
      steps: ['flux'],
      exec: fakeExec(tools),
      aws: fakeAws('999999999999'),
    });
    expect(flux).toEqual([]);
  });

  it('checks the kubeconfig that will be used: the flag over the config, with its context', async () => {
    const kc = path.join(dir, 'kubeconfig');
    writeFileSync(kc, 'apiVersion: v1\nkind: Config\ncontexts: [{name: lab, context: {cluster: c, user: u}}]\n');
    const c = cluster({}, [
      [['kubernetes'], { version: '1.34', access: 'kubeconfig', kubeconfig: kc, context: 'prod' }],
    ]);
    const run = (kubeFlags?: { kubeconfig?: string; context?: string }) =>
      preflight({ cluster: c, index: 0, steps: [], exec: fakeExec(tools), aws: fakeAws('123456789012'), kubeFlags });
    expect(await run()).toEqual([
      { field: 'clusters[0].kubernetes.kubeconfig', message: `${kc} has no context prod (it has: lab)` },
    ]);
    expect(await run({ context: 'lab' })).toEqual([]);
    expect(await run({ kubeconfig: path.join(dir, 'nope'), context: 'lab' })).toEqual([
      { field: '--kubeconfig', message: `${path.join(dir, 'nope')} does not exist` },
    ]);
  });

  it('throws PREFLIGHT_FAILED, exit 2, listing them', async () => {
    const err = await platctlFailure(
      assertPreflight(
        { cluster: cluster({}), index: 0, steps: ALL_STEPS, exec: fakeExec(tools), aws: fakeAws('123456789012') },
        'platform.yaml',
      ),
    );
    expect(err.code).toBe('PREFLIGHT_FAILED');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/^platform\.yaml: 2 problems found before anything was created:\n {2}clusters\[0\]/);
  });
});

describe('preflight with a memo of earlier runs', () => {
  afterEach(() => vi.unstubAllEnvs());
  const run = (c: ReturnType<typeof cluster>, exec: Exec, memo: ReturnType<typeof preflightMemo>) =>
    preflight({ cluster: c, index: 0, steps: ALL_STEPS, exec, aws: fakeAws('123456789012'), memo });

  it('probes an unchanged native tool once a preflight passed; a refused run remembers nothing', async () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    for (const t of Object.keys(tools)) copyFileSync('/usr/bin/true', path.join(bin, t));
    vi.stubEnv('PATH', bin);
    const calls: string[] = [];
    const counting = (versions: Record<string, string>): Exec => ({
      run: async (file, args, o) => {
        calls.push(file);
        return fakeExec(versions).run(file, args, o);
      },
    });
    const file = path.join(dir, 'tools-memo.json');
    const all = ['git', 'helm', 'ssh', 'ssh-keyscan', 'tofu'];
    const old = { ...tools, helm: 'v3.10.1' };
    expect(await run(cluster(goodVault()), counting(old), preflightMemo(file))).toEqual([
      expect.objectContaining({ field: 'PATH', message: expect.stringMatching(/^helm: helm v3\.10\.1/) }),
    ]);
    expect(calls.sort()).toEqual(all);
    expect(existsSync(file)).toBe(false);
    calls.length = 0;
    expect(await run(cluster(goodVault()), counting(tools), preflightMemo(file))).toEqual([]);
    expect(calls.sort()).toEqual(all);
    calls.length = 0;
    expect(await run(cluster(goodVault()), counting(tools), preflightMemo(file))).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("answers a key from the memo only for the same bytes, inside the window the key's validation holds", async () => {
    const [k0, k1] = keys.good as [string, string];
    // The memo says k1's bytes are k0's key: its answer is used instead of reading the file (a duplicate holder).
    const c = cluster({ pgpKeys: [k0, k1], keyThreshold: 2, rootTokenPgpKey: k0 });
    const first = preflightMemo();
    await run(c, fakeExec(tools), first);
    const fpr0 = first.key(fileDigest(readFileSync(k0)), new Date());
    expect(fpr0).toMatch(/^[0-9A-F]{40}$/);
    const lying = preflightMemo();
    lying.rememberKey(fileDigest(readFileSync(k1)), fpr0 as string, new Date(Date.now() - 1000));
    expect((await run(c, fakeExec(tools), lying)).map((p) => p.field)).toEqual(['clusters[0].vault.pgpKeys[1]']);
    // Past its window the entry is not used: the file is read again, and it is a different key.
    const stale = preflightMemo();
    stale.rememberKey(
      fileDigest(readFileSync(k1)),
      fpr0 as string,
      new Date(Date.now() - 2000),
      new Date(Date.now() - 1000),
    );
    expect(await run(c, fakeExec(tools), stale)).toEqual([]);
    // A key that fails is never remembered.
    const bad = preflightMemo();
    const expired = cluster({ pgpKeys: [k0, keys.expired], keyThreshold: 2, rootTokenPgpKey: k0 });
    expect((await run(expired, fakeExec(tools), bad)).map((p) => p.field)).toEqual(['clusters[0].vault.pgpKeys[1]']);
    expect(bad.key(fileDigest(readFileSync(keys.expired)), new Date())).toBeUndefined();
  });
});

describe('vault.keyShares with pgpKeys', () => {
  it('is the number of keys when left out, and is what reaches Vault', async () => {
    const { planFromConfig } = await import('../../src/vault/init.js');
    const c = cluster({ pgpKeys: keys.good, rootTokenPgpKey: keys.good[0] });
    expect(c.vault).toMatchObject({ keyShares: 3, keyThreshold: 3 });
    expect(planFromConfig(c.vault).shares).toBe(3);
    const two = cluster({ pgpKeys: keys.good.slice(0, 2) });
    expect(two.vault).toMatchObject({ keyShares: 2, keyThreshold: 2 });
  });
});
