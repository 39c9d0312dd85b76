/**
 * `platctl vault unseal` as a real child process against the lab's OpenBao, initialised by the vault-init step
 * with test PGP keys (the test decrypts). Without a terminal it refuses to ask for shares (they are never taken
 * from flags or the environment); on an unsealed Vault it verifies the Raft peers with VAULT_TOKEN and reports
 * missing replicas, or says the check was skipped. Prompting and nonce handling are proved in
 * test/vault/unseal.test.ts and, against OpenBao, in test/steps/vault-init.lab.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultApi } from '../../src/vault/api.js';
import { initFiles } from '../../src/vault/init.js';
import { createVaultInitStep } from '../../steps/vault-init.js';
import { labCluster, rawCluster, runPlatctl, stepContext, writePlatformYaml } from '../helpers/lab-vault.js';
import { decryptBase64, makeKey, makeKeys } from '../helpers/pgp-keys.js';
import { lab } from '../lab/env.js';
import { resetBao } from '../lab/lab.js';

const env = lab();
const api = () => vaultApi(env.vaultAddr);
const name = `viu-${Math.random().toString(36).slice(2, 8)}`;
let dir: string;
let cfg: string;
let shares: string[];
let rootToken: string;

const unseal = (extra: string[], childEnv: Record<string, string> = {}) =>
  runPlatctl(['vault', 'unseal', name, '-c', cfg, '--vault-addr', env.vaultAddr, ...extra], {
    PLATCTL_HOME: process.env.PLATCTL_HOME!,
    VAULT_TOKEN: '',
    ...childEnv,
  });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'platctl-vault-unseal-cmd-'));
  process.env.PLATCTL_HOME = path.join(dir, 'home');
  const holders = await makeKeys(dir, 'holder', 3);
  const rootHolder = await makeKey(dir, 'root-holder');
  const vault = {
    keyShares: 3,
    keyThreshold: 2,
    replicas: 3,
    pgpKeys: holders.map((k) => k.publicFile),
    rootTokenPgpKey: rootHolder.publicFile,
  };
  cfg = await writePlatformYaml(dir, rawCluster(env, name, vault));
  await resetBao();
  await createVaultInitStep({ vaultAddr: env.vaultAddr }).apply(stepContext(env, labCluster(env, name, vault)).ctx);
  const out = JSON.parse(await readFile(initFiles(name).output, 'utf8'));
  shares = [await decryptBase64(out.keys_base64[1], holders[1]!), await decryptBase64(out.keys_base64[2], holders[2]!)];
  rootToken = await decryptBase64(out.root_token, rootHolder);
});
afterAll(async () => {
  await resetBao();
  await rm(dir, { recursive: true, force: true });
});

describe('platctl vault unseal', () => {
  it('without a terminal it refuses to ask for shares, and Vault stays sealed', async () => {
    const r = await unseal([]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('cannot ask "Unseal share 1/2 (hidden)" without a terminal');
    expect(r.stderr).toContain('secrets are never taken from flags');
    expect(await api().sealStatus()).toMatchObject({ sealed: true, progress: 0 });
  });

  it('on an unsealed Vault it checks the Raft peers with VAULT_TOKEN and reports the missing replicas', async () => {
    for (const key of shares) await api().unseal({ key });
    expect((await api().sealStatus()).sealed).toBe(false);
    let json: {
      alreadyUnsealed: boolean;
      raft: { checked: boolean; peers: { node_id: string }[]; missingCount: number };
    };
    let r: Awaited<ReturnType<typeof unseal>>;
    // Raft elects its leader just after unseal; until then the peer list may be empty.
    for (let i = 0; ; i++) {
      r = await unseal(['--output', 'json'], { VAULT_TOKEN: rootToken });
      expect(r.exitCode, r.stderr).toBe(0);
      json = JSON.parse(r.stdout);
      if (json.raft.peers.length > 0 || i > 10) break;
    }
    expect(json).toMatchObject({ alreadyUnsealed: true, raft: { checked: true, expected: 3, missingCount: 2 } });
    expect(json.raft.peers.map((p) => p.node_id)).toEqual(['lab-0']);
    expect(r.stderr).toContain('Raft: 1/3 peers (lab-0 (leader)); 2 missing');
    expect(r.stdout + r.stderr).not.toContain(rootToken);
  });

  it('without VAULT_TOKEN it says the Raft check was skipped and why', async () => {
    const r = await unseal(['--output', 'json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).raft).toMatchObject({
      checked: false,
      skipped: expect.stringContaining('VAULT_TOKEN'),
    });
    expect(r.stderr).toContain('Raft peers not verified');
  });
});
