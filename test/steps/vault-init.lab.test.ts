/**
 * The vault-init step against the lab's real OpenBao (Shamir seal, Raft), reached as on EKS: client-node's
 * port-forward to the pod vault-0, through the apiserver to kwok's kubelet, which forwards to OpenBao (the
 * --vault-addr flag is used only where a test needs Vault without the cluster). The TEST holds the private keys:
 * platctl gets public keys only, Vault encrypts, the test decrypts two shares, unseals through platctl's unseal
 * code (shares fed through a Prompter with a fake runner), decrypts the root token and calls lookup-self.
 * Also: re-running is up to date with no PUT; bad key input never reaches Vault; a real child process killed
 * between Vault's answer and the file write resumes into the loud error and never re-initialises.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube } from '../../src/clients/kube.js';
import { createPrompter, type PromptRunner } from '../../src/clients/prompt.js';
import type { StepOutputs } from '../../src/state/types.js';
import type { StepContext } from '../../src/step.js';
import { vaultApi } from '../../src/vault/api.js';
import { initFiles } from '../../src/vault/init.js';
import { waitForServer } from '../../src/vault/pods.js';
import { unsealVault, verifyRaftPeers } from '../../src/vault/unseal.js';
import { createVaultInitStep } from '../../steps/vault-init.js';
import {
  labCluster,
  rawCluster,
  runPlatctl,
  runSteps,
  stepContext,
  vaultPod,
  writePlatformYaml,
} from '../helpers/lab-vault.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { decryptBase64, makeKey, makeKeys, type TestKey, writePrivateKeyFile } from '../helpers/pgp-keys.js';
import { lab } from '../lab/env.js';
import { resetBao } from '../lab/lab.js';

const env = lab();
const api = () => vaultApi(env.vaultAddr);
let dir: string;
let holders: TestKey[];
let rootHolder: TestKey;
const suffix = Math.random().toString(36).slice(2, 8);
const name = `vi-step-${suffix}`;
const ns = `vi-${suffix}`;
let podCleanup: (() => Promise<void>) | undefined;
const vaultSection = () => ({
  namespace: ns,
  timeout: '90s',
  keyShares: 3,
  keyThreshold: 2,
  pgpKeys: holders.map((k) => k.publicFile),
  rootTokenPgpKey: rootHolder.publicFile,
  replicas: 1,
});
const intentRef = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: 'platctl-system',
  name: 'platctl-vault-init-intent',
};
const traceLines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'platctl-vault-init-'));
  process.env.PLATCTL_HOME = path.join(dir, 'home');
  holders = await makeKeys(dir, 'holder', 3);
  rootHolder = await makeKey(dir, 'root-holder');
  await resetBao();
  podCleanup = await vaultPod(env, ns);
  await waitForServer(await connectKube({ kubeconfig: env.kubeconfig }), 1, {
    namespace: ns,
    timeoutMs: 90_000,
    progress: () => {},
  });
});
afterAll(async () => {
  delete process.env.PLATCTL_TRACE_REQUESTS;
  await podCleanup?.();
  await resetBao(); // leave OpenBao uninitialised, as the lab promises other tests
  await rm(dir, { recursive: true, force: true });
});

describe('vault-init: bad key input never reaches Vault', () => {
  it('refuses private, expired, revoked, signing-only, garbage keys and a wrong count, naming the file', async () => {
    const { file: privateFile, content } = await writePrivateKeyFile(dir, holders[0] as TestKey);
    const expired = await makeKey(dir, 'expired', 'expired');
    const revoked = await makeKey(dir, 'revoked', 'revoked');
    const signOnly = await makeKey(dir, 'signer', 'sign-only');
    const garbage = path.join(dir, 'garbage.asc');
    await (await import('node:fs/promises')).writeFile(garbage, 'not a key\n');
    const [a, b] = holders.map((k) => k.publicFile) as [string, string, string];
    const cases: [string, string[], string, RegExp][] = [
      ['private key', [a, b, privateFile], privateFile, /PRIVATE key/],
      ['expired', [a, expired.publicFile, b], expired.publicFile, /expired on/],
      ['revoked', [revoked.publicFile, a, b], revoked.publicFile, /is revoked/],
      ['signing-only', [a, b, signOnly.publicFile], signOnly.publicFile, /cannot encrypt/],
      ['garbage', [a, b, garbage], garbage, /not an OpenPGP public key/],
    ];
    const trace = path.join(dir, 'bad-input.trace');
    process.env.PLATCTL_TRACE_REQUESTS = trace;
    const cluster = labCluster(env, name, vaultSection());
    for (const [label, files, named, problem] of cases) {
      const step = createVaultInitStep({
        vaultAddr: env.vaultAddr,
        plan: { shares: 3, threshold: 2, pgpKeyFiles: files, rootTokenPgpKeyFile: rootHolder.publicFile },
      });
      const err = (await step.apply(stepContext(env, cluster).ctx).catch((e: unknown) => e)) as Error;
      expect(err.message, label).toContain(named);
      expect(err.message, label).toMatch(problem);
      expect(err.message).not.toContain(content.split('\n')[3] ?? 'never');
    }
    const wrongCount = createVaultInitStep({
      vaultAddr: env.vaultAddr,
      plan: { shares: 3, threshold: 2, pgpKeyFiles: [a, b], rootTokenPgpKeyFile: rootHolder.publicFile },
    });
    await expect(wrongCount.apply(stepContext(env, cluster).ctx)).rejects.toThrow('2 PGP keys for 3 shares');
    const badRoot = createVaultInitStep({
      vaultAddr: env.vaultAddr,
      plan: { shares: 3, threshold: 2, pgpKeyFiles: holders.map((k) => k.publicFile), rootTokenPgpKeyFile: garbage },
    });
    await expect(badRoot.apply(stepContext(env, cluster).ctx)).rejects.toThrow(garbage);
    delete process.env.PLATCTL_TRACE_REQUESTS;
    expect(await traceLines(trace)).toEqual([]); // not one request reached Vault
    expect(await api().initStatus()).toEqual({ initialized: false });
  });
});

describe('vault-init: init, decrypt, unseal, root token', () => {
  const cluster = () => labCluster(env, name, vaultSection());
  const step = () => createVaultInitStep();
  let shares: string[] = [];
  let rootToken = '';

  it('check says absent on a fresh OpenBao, and a dry run changes nothing', async () => {
    const report = await runSteps(env, cluster(), [step()], true);
    expect(report.steps[0]).toMatchObject({ result: 'would-apply' });
    expect(report.steps[0]?.changes).toEqual(['+ vault init: 3 PGP-encrypted shares, threshold 2']);
    expect(await api().initStatus()).toEqual({ initialized: false });
  });

  it('initialises with 3 PGP keys and threshold 2; output 0600 with ciphertext only; state holds fingerprints + sha256', async () => {
    const report = await runSteps(env, cluster(), [step()]);
    expect(report.ok, JSON.stringify(report.error)).toBe(true);
    expect(report.steps[0]?.result).toBe('applied');
    // Through the pod, as on EKS: kwok forwarded vault-0:8200 to the lab's OpenBao.
    expect(report.steps[0]?.detail).toBe(`Vault at ${ns}/vault-0 (port-forward) is not initialised`);
    expect(await api().initStatus()).toEqual({ initialized: true });
    const files = initFiles(name);
    expect((await stat(files.output)).mode & 0o777).toBe(0o600);
    await expect(stat(files.intent)).rejects.toMatchObject({ code: 'ENOENT' });
    // The intent's copy in the cluster goes too, once the output is safe.
    const kube = await connectKube({ kubeconfig: env.kubeconfig });
    expect(await kube.get(intentRef)).toBeUndefined();
    const text = await readFile(files.output, 'utf8');
    const out = JSON.parse(text);
    expect(out).toMatchObject({ shares: 3, threshold: 2, sealType: 'shamir', cluster: name });
    expect(out.fingerprints).toEqual(holders.map((k) => k.fingerprint));
    expect(out.rootTokenFingerprint).toBe(rootHolder.fingerprint);
    expect(out.keys_base64).toHaveLength(3);
    // The test, holding the private keys, decrypts: share i is for holder i only.
    shares = [
      await decryptBase64(out.keys_base64[0], holders[0]!),
      await decryptBase64(out.keys_base64[1], holders[1]!),
    ];
    await expect(decryptBase64(out.keys_base64[0], holders[1]!)).rejects.toThrow();
    rootToken = await decryptBase64(out.root_token, rootHolder);
    for (const s of shares) {
      expect(s).toMatch(/^[0-9a-f]{40,}$/);
      expect(text).not.toContain(s);
      expect(text).not.toContain(Buffer.from(s, 'hex').toString('base64'));
    }
    expect(text).not.toContain(rootToken);
    const state = await readFile(path.join(process.env.PLATCTL_HOME!, name, 'state.json'), 'utf8');
    const outputs = JSON.parse(state).steps['vault-init'].outputs;
    expect(Object.keys(outputs).sort()).toEqual(['fingerprints', 'initialized', 'outputSha256']);
    expect(outputs).toEqual({
      fingerprints: holders.map((k) => k.fingerprint),
      outputSha256: createHash('sha256').update(text).digest('hex'),
      initialized: true,
    });
    for (const secret of [...shares, rootToken]) expect(state).not.toContain(secret);
  });

  it('unseals OpenBao with two decrypted shares through the unseal code, then lookup-self works with the root token', async () => {
    const answers = [...shares];
    const asked: string[] = [];
    const runner: PromptRunner = async <T>(kind: string, o: Record<string, unknown>) => {
      asked.push(`${kind}: ${o.message}`);
      return answers.shift() as T;
    };
    const log = memoryLogger();
    const prompt = createPrompter({ yes: false, interactive: true, runner });
    const r = await unsealVault({ api: api(), ask: (m) => prompt.secret(m), log });
    expect(r).toMatchObject({ sealed: false, given: 2, threshold: 2 });
    expect(asked).toEqual(['password: Unseal share 1/2 (hidden)', 'password: Unseal share 2/2 (hidden)']);
    for (const s of shares) expect(log.lines.join('\n')).not.toContain(s);
    expect((await api().sealStatus()).sealed).toBe(false);
    const res = await fetch(`${env.vaultAddr}/v1/auth/token/lookup-self`, { headers: { 'x-vault-token': rootToken } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { policies: string[] } }).data.policies).toContain('root');
  });

  it('verifies the Raft peers with a token the test decrypted, and reports missing replicas', async () => {
    let report = await verifyRaftPeers({ api: api(), token: rootToken, replicas: 1, log: memoryLogger() });
    for (let i = 0; i < 150 && report.peers.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200)); // raft elects its leader just after unseal
      report = await verifyRaftPeers({ api: api(), token: rootToken, replicas: 1, log: memoryLogger() });
    }
    expect(report).toMatchObject({ checked: true, missingCount: 0 });
    expect(report.peers.map((p) => p.node_id)).toEqual(['lab-0']);
    const log = memoryLogger();
    expect(await verifyRaftPeers({ api: api(), token: rootToken, replicas: 3, log })).toMatchObject({
      missingCount: 2,
    });
    expect(log.lines.join('\n')).toContain('Raft: 1/3 peers (lab-0 (leader)); 2 missing');
  });

  it('re-running is up to date: one GET /v1/sys/init, no PUT, and says platctl holds the output', async () => {
    const trace = path.join(dir, 'rerun.trace');
    process.env.PLATCTL_TRACE_REQUESTS = trace;
    const report = await runSteps(env, cluster(), [step()]);
    delete process.env.PLATCTL_TRACE_REQUESTS;
    expect(report.steps[0]).toMatchObject({ result: 'up-to-date' });
    expect(report.steps[0]?.detail).toContain(`platctl holds the encrypted init output ${initFiles(name).output}`);
    expect(await traceLines(trace)).toEqual(['vault GET /v1/sys/init']);
  });

  it('an unreachable Vault is "absent" only while the vault step has not run; after, it is an error', async () => {
    const closed = createVaultInitStep({ vaultAddr: 'http://127.0.0.1:9' });
    const { ctx } = stepContext(env, cluster(), { dryRun: true });
    expect(await closed.check(ctx)).toMatchObject({
      status: 'absent',
      detail: expect.stringContaining('not reachable yet'),
    });
    const vaultOut: StepOutputs = { release: 'vault', namespace: 'vault' };
    const installed: StepContext = { ...ctx, outputs: (id) => (id === 'vault' ? vaultOut : {}) };
    await expect(closed.check(installed)).rejects.toThrow('cannot reach Vault at http://127.0.0.1:9');
  });

  it('without the output or an intent, an initialised Vault is up to date "outside platctl"', async () => {
    const other = labCluster(env, `${name}-other`, vaultSection());
    const { ctx } = stepContext(env, other);
    const check = await step().check(ctx);
    expect(check.status).toBe('up-to-date');
    expect(check.detail).toContain('initialised outside platctl: this tool holds no init output');
    expect(check.outputs).toEqual({ initialized: true });
  });
});

describe('vault-init: SIGKILL between the init call and the file write', () => {
  it('the resumed run stops with the loud error and never initialises again', async () => {
    await resetBao();
    const crashName = `vi-crash-${suffix}`;
    const cfg = await writePlatformYaml(dir, rawCluster(env, crashName, vaultSection()));
    const childEnv = {
      PLATCTL_HOME: process.env.PLATCTL_HOME!,
      PLATCTL_TEST_STEPS: 'test/helpers/lab-vault.ts',
    };
    const args = ['bootstrap', crashName, '-c', cfg, '--only', 'vault-init', '--yes'];
    const killed = await runPlatctl(args, { ...childEnv, PLATCTL_TEST_CRASH: 'vault-init:after-init-call' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killed.stderr).toContain('PLATCTL_TEST_CRASH: killing myself at vault-init:after-init-call');
    const files = initFiles(crashName);
    expect(await api().initStatus()).toEqual({ initialized: true }); // Vault did initialise…
    await expect(stat(files.output)).rejects.toMatchObject({ code: 'ENOENT' }); // …and the answer is gone
    expect((await stat(files.intent)).mode & 0o777).toBe(0o600);

    const trace = path.join(dir, 'resume.trace');
    const resumed = await runPlatctl(args, { ...childEnv, PLATCTL_TRACE_REQUESTS: trace });
    expect(resumed.exitCode, resumed.stderr).toBe(1);
    expect(resumed.stderr).toContain(`VAULT INIT OUTPUT LOST: Vault at ${ns}/vault-0 (port-forward) is initialised`);
    expect(resumed.stderr).toContain('platctl will NOT initialise again');
    expect(resumed.stderr).toContain('docs/commands/vault.md#recovering-a-lost-init-output');
    expect(await traceLines(trace)).toEqual(['vault GET /v1/sys/init']);
    const state = JSON.parse(await readFile(path.join(process.env.PLATCTL_HOME!, crashName, 'state.json'), 'utf8'));
    expect(state.steps['vault-init']).toMatchObject({ status: 'failed' });
    expect(state.steps['vault-init'].error).toContain('VAULT INIT OUTPUT LOST');
    // A second resume says the same: it never silently "adopts" the lost init.
    const again = await runPlatctl(args, childEnv);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('VAULT INIT OUTPUT LOST');

    // Another machine (no local intent file) finds the intent's copy in the cluster, and stops the same way.
    const kube = await connectKube({ kubeconfig: env.kubeconfig });
    const intentRef = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'platctl-system',
      name: 'platctl-vault-init-intent',
    };
    try {
      expect(await kube.get(intentRef), killed.stderr).toBeDefined();
      await rename(files.intent, `${files.intent}.elsewhere`);
      const elsewhere = await runPlatctl(args, childEnv);
      expect(elsewhere.exitCode, elsewhere.stderr).toBe(1);
      expect(elsewhere.stderr).toContain('VAULT INIT OUTPUT LOST');
      expect(elsewhere.stderr).toContain('recorded in ConfigMap platctl-system/platctl-vault-init-intent');
    } finally {
      await kube.delete(intentRef);
    }
  });
});
