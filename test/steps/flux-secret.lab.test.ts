/**
 * Step flux-secret against the lab: the real kube-apiserver stores the Secret, the lab's real sshd decides
 * whether the deploy key may read the fleet repo, real OpenSSH parses the generated key.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPrompter, type Prompter } from '../../src/clients/prompt.js';
import fluxRotateKey from '../../src/commands/flux-rotate-key.js';
import { readStoredKey, SECRET_REF } from '../../src/flux/deploy-key.js';
import { fingerprintOf } from '../../src/flux/keys.js';
import { createFluxSecretStep } from '../../steps/flux-secret.js';
import {
  countingKube,
  FLUX_INSTALL,
  fluxContext,
  labCluster,
  labKube,
  uniqueName,
  waitFluxNamespaceSettled,
} from '../helpers/flux-context.js';
import { lab } from '../lab/env.js';
import { authorizeKey, revokeKey } from '../lab/lab.js';

const env = lab();
const name = uniqueName('fluxkey');
const cluster = labCluster(env, name);
// Short, bounded retries: the non-interactive path must fail fast in tests.
const step = createFluxSecretStep({ attempts: 2, intervalMs: 100 });
const kube = await labKube(env);
const keysToRevoke: string[] = [];
let tmp: string;
const savedHome = process.env.PLATCTL_HOME;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'platctl-flux-secret-'));
  await waitFluxNamespaceSettled(kube);
  await kube.delete(SECRET_REF);
});
afterAll(async () => {
  for (const k of keysToRevoke) await revokeKey(k);
  await kube.delete(SECRET_REF);
  await rm(tmp, { recursive: true, force: true });
  if (savedHome === undefined) delete process.env.PLATCTL_HOME;
  else process.env.PLATCTL_HOME = savedHome;
});

const secretVersion = async () => (await kube.get(SECRET_REF))?.metadata.resourceVersion;

describe('flux-secret', () => {
  it('creates the secret, and a key the git host does not know fails naming the repo and the fingerprint', async () => {
    const { ctx, log } = fluxContext(cluster, { kube });
    expect((await step.check(ctx)).status).toBe('absent');
    const err = await step.apply(ctx).then(
      () => undefined,
      (e: Error) => e,
    );
    const stored = await readStoredKey(kube);
    expect(stored).toBeDefined();
    expect(err?.message).toContain(env.fleetUrl);
    expect(err?.message).toContain(stored?.fingerprint);
    expect(err?.message).toMatch(/Permission denied/);
    // The public key is shown; the private key never reaches the log.
    const text = log.lines.join('\n');
    expect(text).toContain(stored?.publicKey);
    expect(text).toContain('READ-ONLY');
    expect(text).not.toContain(stored?.privateKey.split('\n')[1]);
    expect(text).not.toContain('BEGIN OPENSSH PRIVATE KEY');
  });

  it('stores a key real OpenSSH reads, with the scanned known_hosts of the fleet host and port', async () => {
    const stored = await readStoredKey(kube);
    const file = path.join(tmp, 'identity');
    await writeFile(file, stored?.privateKey ?? '', { mode: 0o600 });
    const derived = await execa('ssh-keygen', ['-y', '-f', file]);
    expect(stored?.publicKey.startsWith(derived.stdout.trim())).toBe(true);
    expect(stored?.publicKey).toMatch(new RegExp(`^ssh-ed25519 AAAA\\S+ platctl-flux-${name}$`));
    expect(stored?.knownHosts).toContain(`[127.0.0.1]:${env.sshPort} ssh-ed25519 `);
    const labHostKey = (await readFile(env.knownHosts, 'utf8')).split('\n')[0]?.split(' ').slice(1).join(' ');
    expect(stored?.knownHosts).toContain(labHostKey);
  });

  it('check flips to up to date once the key is authorised read-only; the cheap check is one read', async () => {
    const stored = await readStoredKey(kube);
    const pub = stored?.publicKey ?? '';
    const before = await step.check(fluxContext(cluster, { kube, deep: true }).ctx);
    expect(before.status).toBe('drift');
    expect(before.detail).toContain(stored?.fingerprint);
    expect(before.detail).toContain(env.fleetUrl);

    await authorizeKey(pub, { readOnly: true });
    keysToRevoke.push(pub);
    const after = await step.check(fluxContext(cluster, { kube, deep: true }).ctx);
    expect(after).toMatchObject({
      status: 'up-to-date',
      outputs: { publicKey: pub, fingerprint: stored?.fingerprint },
    });
    expect(after.detail).toContain('up to date');

    const counted = countingKube(kube);
    const cheap = await step.check(fluxContext(cluster, { kube: counted.kube, deep: false }).ctx);
    expect(cheap.status).toBe('up-to-date');
    expect(counted.counts).toMatchObject({ reads: 1, writes: 0 });
  });

  it('a re-run proves access and never overwrites the existing secret', async () => {
    const rv = await secretVersion();
    const { ctx } = fluxContext(cluster, { kube });
    const outputs = await step.apply(ctx);
    expect(outputs).toEqual({
      publicKey: (await readStoredKey(kube))?.publicKey,
      fingerprint: expect.stringMatching(/^SHA256:/),
      provider: 'ssh',
    });
    expect(await secretVersion()).toBe(rv);
  });

  it('interactively waits until the user has added the key, or stops when they say no', async () => {
    const other = labCluster(env, name, { fleet: { url: env.fleetUrl, keyType: 'ecdsa-p384' } });
    await kube.delete(SECRET_REF);
    let asked = 0;
    // The test plays the user: on the first question it adds the key on the git host, then answers yes.
    const user: Prompter = {
      ...createPrompter({ yes: false, interactive: true }),
      interactive: true,
      confirm: async () => {
        asked++;
        const pub = (await readStoredKey(kube))?.publicKey ?? '';
        await authorizeKey(pub, { readOnly: true });
        keysToRevoke.push(pub);
        return true;
      },
    };
    const { ctx } = fluxContext(other, { kube, prompt: user, yes: false });
    const outputs = await step.apply(ctx);
    expect(asked).toBe(1);
    expect(String(outputs?.publicKey)).toMatch(/^ecdsa-sha2-nistp384 /);

    await kube.delete(SECRET_REF);
    const refuse: Prompter = { ...user, confirm: async () => false };
    await expect(step.apply(fluxContext(cluster, { kube, prompt: refuse, yes: false }).ctx)).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });

  it('platctl flux rotate-key replaces the secret and prints the new public key', async () => {
    const old = await readStoredKey(kube);
    const rv = await secretVersion();
    const file = path.join(tmp, 'platform.yaml');
    await writeFile(
      file,
      JSON.stringify({
        clusters: [
          {
            name,
            aws: { accountId: '123456789012', region: 'us-east-1' },
            kubernetes: { version: '1.34', access: 'kubeconfig', kubeconfig: env.kubeconfig },
            fleet: { url: env.fleetUrl },
            flux: { manifests: FLUX_INSTALL },
          },
        ],
      }),
    );
    process.env.PLATCTL_HOME = path.join(tmp, 'home');
    const command = (yes: boolean) => {
      const cmd = new Command().option('-c, --config <file>').option('-y, --yes');
      return cmd.parse(['--config', file, ...(yes ? ['--yes'] : [])], { from: 'user' });
    };
    // Without a terminal and without --yes it refuses, and nothing changes.
    await expect(fluxRotateKey(name, { config: file }, command(false))).rejects.toMatchObject({ code: 'NO_TTY' });
    expect(await secretVersion()).toBe(rv);

    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await fluxRotateKey(name, { config: file, yes: true }, command(true));
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const fresh = await readStoredKey(kube);
    expect(await secretVersion()).not.toBe(rv);
    expect(fresh?.fingerprint).not.toBe(old?.fingerprint);
    expect(printed.join('')).toBe(`${fresh?.publicKey}\n`);
    expect(fingerprintOf(printed.join(''))).toBe(fresh?.fingerprint);

    // The new key is not yet known to the git host: the deep check says so, then flips once it is added.
    const before = await step.check(fluxContext(cluster, { kube }).ctx);
    expect(before.status).toBe('drift');
    await authorizeKey(fresh?.publicKey ?? '', { readOnly: true });
    keysToRevoke.push(fresh?.publicKey ?? '');
    expect((await step.check(fluxContext(cluster, { kube }).ctx)).status).toBe('up-to-date');
  });

  it('destroy deletes the secret and tolerates it being gone', async () => {
    const { ctx } = fluxContext(cluster, { kube });
    await step.destroy(ctx);
    expect(await kube.get(SECRET_REF)).toBeUndefined();
    await step.destroy(ctx);
    expect((await step.check(ctx)).status).toBe('absent');
  });
});
