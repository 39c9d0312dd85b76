/**
 * The init flow's pieces against a fake Vault (the narrow VaultApi): the request body per seal type (the lab's
 * OpenBao is Shamir only, so the auto-unseal body is proved here), the intent on disk before the call, the
 * output's shape, the plan from config or flags, and input checks. The real flow is in test/steps/vault-init.lab.test.ts.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFromFlags } from '../../src/commands/vault-init.js';
import { clusterSchema } from '../../src/config/schema.js';
import type { InitRequest } from '../../src/vault/api.js';
import {
  type InitKeys,
  initFiles,
  initialiseVault,
  initRequest,
  loadInitKeys,
  lostInitError,
  planFromConfig,
  readLocalInit,
} from '../../src/vault/init.js';
import { fakeVault } from '../helpers/fake-vault.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { makeKey, makeKeys, type TestKey } from '../helpers/pgp-keys.js';
import { saveEnv } from '../helpers/saved-env.js';

let dir: string;
let holders: TestKey[];
let rootHolder: TestKey;
let keys: InitKeys;

/** Encrypts `text` to the base64 key Vault was given, as Vault does; returns base64 of the binary message. */
async function encryptTo(base64Key: string, text: string): Promise<string> {
  const key = await openpgp.readKey({ binaryKey: new Uint8Array(Buffer.from(base64Key, 'base64')) });
  const msg = await openpgp.encrypt({
    message: await openpgp.createMessage({ text }),
    encryptionKeys: key,
    format: 'binary',
  });
  return Buffer.from(msg as Uint8Array).toString('base64');
}

let restoreEnv: () => void;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'platctl-vault-initflow-'));
  restoreEnv = saveEnv('PLATCTL_HOME');
  process.env.PLATCTL_HOME = path.join(dir, 'home');
  holders = await makeKeys(dir, 'h', 3);
  rootHolder = await makeKey(dir, 'root');
  keys = await loadInitKeys({
    shares: 3,
    threshold: 2,
    pgpKeyFiles: holders.map((k) => k.publicFile),
    rootTokenPgpKeyFile: rootHolder.publicFile,
  });
});
afterAll(async () => {
  restoreEnv();
  await rm(dir, { recursive: true, force: true });
});

describe('initRequest', () => {
  it('uses secret_* with Shamir, recovery_* with auto-unseal, root_token_pgp_key always', () => {
    const pgp = keys.shareKeys.map((k) => k.base64);
    expect(initRequest(keys, 'shamir')).toEqual({
      secret_shares: 3,
      secret_threshold: 2,
      pgp_keys: pgp,
      root_token_pgp_key: keys.rootKey.base64,
    });
    expect(initRequest(keys, 'awskms')).toEqual({
      recovery_shares: 3,
      recovery_threshold: 2,
      recovery_pgp_keys: pgp,
      root_token_pgp_key: keys.rootKey.base64,
    });
  });
});

describe('initialiseVault', () => {
  it('records the intent before the call, then writes the ciphertext 0600 and removes the intent', async () => {
    const vault = fakeVault({ type: 'awskms', initialized: false });
    const intentAtCall: unknown[] = [];
    const files = initFiles('flow-kms');
    vault.init = async (body: InitRequest) => {
      vault.calls.push('PUT /v1/sys/init');
      intentAtCall.push(JSON.parse(await readFile(files.intent, 'utf8')));
      const recovery = await Promise.all((body.recovery_pgp_keys ?? []).map((k, i) => encryptTo(k, `share-${i}`)));
      return {
        recovery_keys: recovery,
        recovery_keys_base64: recovery,
        root_token: await encryptTo(body.root_token_pgp_key, 'tok'),
      };
    };
    const r = await initialiseVault({ api: vault, cluster: 'flow-kms', keys, sealType: 'awskms', log: memoryLogger() });
    expect(intentAtCall).toEqual([
      expect.objectContaining({ cluster: 'flow-kms', sealType: 'awskms', shares: 3, fingerprints: r.fingerprints }),
    ]);
    await expect(stat(files.intent)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(files.output)).mode & 0o777).toBe(0o600);
    const out = JSON.parse(await readFile(files.output, 'utf8'));
    expect(out).toMatchObject({
      sealType: 'awskms',
      shares: 3,
      threshold: 2,
      rootTokenFingerprint: rootHolder.fingerprint,
    });
    expect(out.recovery_keys_base64).toHaveLength(3);
    expect(out.holders.map((h: { fingerprint: string }) => h.fingerprint)).toEqual(holders.map((k) => k.fingerprint));
    const local = await readLocalInit('flow-kms');
    expect(local.output?.sha256).toBe(r.sha256);
    expect(local.output?.fingerprints).toEqual(holders.map((k) => k.fingerprint));
  });

  it('keeps an older output aside instead of overwriting it', async () => {
    const vault = fakeVault({ initialized: false });
    const answer = async (body: InitRequest) => {
      const k = await Promise.all((body.pgp_keys ?? []).map((p) => encryptTo(p, 'abc')));
      return { keys: k, keys_base64: k, root_token: await encryptTo(body.root_token_pgp_key, 't') };
    };
    vault.init = answer;
    const log = memoryLogger();
    await initialiseVault({ api: vault, cluster: 'flow-twice', keys, sealType: 'shamir', log });
    const first = await readFile(initFiles('flow-twice').output, 'utf8');
    await initialiseVault({ api: vault, cluster: 'flow-twice', keys, sealType: 'shamir', log });
    const kept = log.lines.find((l) => l.includes('kept as'))?.split('kept as ')[1] ?? '';
    expect(await readFile(kept, 'utf8')).toBe(first);
  });

  it('saves but refuses an answer that is not PGP ciphertext', async () => {
    const vault = fakeVault({ initialized: false });
    vault.init = async () => ({ keys_base64: ['YWJj', 'ZGVm', 'Z2hp'], root_token: 's.plain' });
    await expect(
      initialiseVault({ api: vault, cluster: 'flow-plain', keys, sealType: 'shamir', log: memoryLogger() }),
    ).rejects.toThrow(/is not 3 PGP-encrypted shares/);
    expect((await stat(initFiles('flow-plain').output)).mode & 0o777).toBe(0o600);
  });
});

describe('plans and input checks', () => {
  const raw = { name: 'c', aws: { accountId: '123456789012', region: 'us-east-1' }, kubernetes: { version: '1.34' } };
  const vaultOf = (v: Record<string, unknown>) =>
    clusterSchema.parse({ ...raw, fleet: { url: 'ssh://git@h/f.git' }, vault: v }).vault;

  it('flags beat platform.yaml; --pgp-key count sets the shares', () => {
    const v = vaultOf({ keyShares: 2, keyThreshold: 2, pgpKeys: ['/k/a', '/k/b'], rootTokenPgpKey: '/k/r' });
    expect(planFromConfig(v)).toEqual({
      shares: 2,
      threshold: 2,
      pgpKeyFiles: ['/k/a', '/k/b'],
      rootTokenPgpKeyFile: '/k/r',
    });
    expect(planFromFlags(v, { config: 'x', pgpKey: ['/f/1', '/f/2', '/f/3'], keyThreshold: '3' })).toEqual({
      shares: 3,
      threshold: 3,
      pgpKeyFiles: ['/f/1', '/f/2', '/f/3'],
      rootTokenPgpKeyFile: '/k/r',
    });
    expect(() => planFromFlags(v, { config: 'x', keyThreshold: 'two' })).toThrow('must be a whole number');
  });

  it('refuses missing keys, a bad threshold and a missing root token key before reading any file', async () => {
    const files = holders.map((k) => k.publicFile);
    const plan = { shares: 3, threshold: 2, pgpKeyFiles: files, rootTokenPgpKeyFile: rootHolder.publicFile };
    await expect(loadInitKeys({ ...plan, pgpKeyFiles: [] })).rejects.toThrow('one PGP public key per share');
    await expect(loadInitKeys({ ...plan, threshold: 4 })).rejects.toThrow('between 1 and 3');
    await expect(loadInitKeys({ ...plan, threshold: 1 })).rejects.toThrow('threshold of 1 with several shares');
    await expect(loadInitKeys({ ...plan, rootTokenPgpKeyFile: undefined })).rejects.toThrow('root token');
  });

  it('an unreadable key file is blamed on the field it came from', async () => {
    const files = holders.map((k) => k.publicFile);
    const missing = path.join(dir, 'no-such-key.asc');
    const plan = { shares: 3, threshold: 2, pgpKeyFiles: files, rootTokenPgpKeyFile: missing };
    const root = (await loadInitKeys(plan).catch((e: unknown) => e)) as { message: string; hint?: string };
    expect(root.message).toContain(`PGP key ${missing}: cannot read the file (ENOENT)`);
    expect(root.hint).toBe('check the path in vault.rootTokenPgpKey or --root-token-pgp-key');
    const share = (await loadInitKeys({ ...plan, pgpKeyFiles: [files[0] ?? '', missing, files[2] ?? ''] }).catch(
      (e: unknown) => e,
    )) as { hint?: string };
    expect(share.hint).toBe('check the path in vault.pgpKeys or --pgp-key');
  });

  it('the lost-output error names the files, says it will not re-initialise, and points at the recovery', async () => {
    const local = await readLocalInit('nothing-here');
    const err = lostInitError({ ...local, intent: { startedAt: 'T0', by: 'me@host' } as never }, 'http://v:8200');
    expect(err.message).toContain(`${local.files.output} was never written (init started T0 by me@host`);
    expect(err.message).toContain('platctl will NOT initialise again');
    expect(err.hint).toContain('docs/commands/vault.md#recovering-a-lost-init-output');
    expect(err.hint).toContain(local.files.intent);
  });
});
