/**
 * `platctl vault init` as a real child process (no TTY) against the lab's OpenBao, with the commander wiring
 * in src/cli.ts: flags beat platform.yaml, bad key input
 * exits 2 with zero requests to Vault, no --yes without a terminal refuses before initialising, a SIGKILL
 * between Vault's answer and the file write resumes into the loud error, and a good run prints fingerprints
 * and next steps but never key material.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultApi } from '../../src/vault/api.js';
import { initFiles } from '../../src/vault/init.js';
import { rawCluster, runPlatctl, writePlatformYaml } from '../helpers/lab-vault.js';
import { makeKey, makeKeys, type TestKey, writePrivateKeyFile } from '../helpers/pgp-keys.js';
import { lab } from '../lab/env.js';
import { resetBao } from '../lab/lab.js';

const env = lab();
const api = () => vaultApi(env.vaultAddr);
const suffix = Math.random().toString(36).slice(2, 8);
let dir: string;
let cfg: string;
let home: string;
let holders: TestKey[];
let rootHolder: TestKey;
const traceLines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);

/** `vault init <cluster>` with three --pgp-key flags (config has none: the flags decide the shares). */
function init(cluster: string, extra: string[] = [], childEnv: Record<string, string> = {}, keys?: string[]) {
  const pgp = (keys ?? holders.map((k) => k.publicFile)).flatMap((f) => ['--pgp-key', f]);
  const args = ['vault', 'init', cluster, '-c', cfg, ...pgp, '--key-threshold', '2'];
  args.push('--root-token-pgp-key', rootHolder.publicFile, '--vault-addr', env.vaultAddr, ...extra);
  return runPlatctl(args, { PLATCTL_HOME: home, ...childEnv });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'platctl-vault-init-cmd-'));
  home = path.join(dir, 'home');
  process.env.PLATCTL_HOME = home; // initFiles() in this process must look where the child writes
  holders = await makeKeys(dir, 'holder', 3);
  rootHolder = await makeKey(dir, 'root-holder');
  // keyShares 5 / threshold 3 in config: the flags (3 keys, threshold 2) must win.
  const clusters = ['a', 'crash', 'ok'].map((c) =>
    rawCluster(env, `vic-${c}-${suffix}`, { keyShares: 5, keyThreshold: 3 }),
  );
  cfg = await writePlatformYaml(dir, ...clusters);
  await resetBao();
});
afterAll(async () => {
  await resetBao();
  await rm(dir, { recursive: true, force: true });
});

describe('platctl vault init', () => {
  it('bad key input exits 2 naming the file, echoes no key, and sends nothing to Vault', async () => {
    const { file, content } = await writePrivateKeyFile(dir, holders[2]!);
    const expired = await makeKey(dir, 'expired', 'expired');
    const trace = path.join(dir, 'bad.trace');
    const [a, b] = holders.map((k) => k.publicFile) as [string, string];
    for (const [keys, named] of [
      [[a, b, file], file],
      [[a, expired.publicFile, b], expired.publicFile],
    ] as const) {
      const r = await init(`vic-a-${suffix}`, ['--yes'], { PLATCTL_TRACE_REQUESTS: trace }, [...keys]);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(`PGP key ${named}`);
      for (const line of content.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
        expect(r.stderr + r.stdout).not.toContain(line);
      }
    }
    const one = await init(`vic-a-${suffix}`, ['--yes'], { PLATCTL_TRACE_REQUESTS: trace }, [a]);
    expect(one.exitCode).toBe(2);
    expect(one.stderr).toContain('key threshold 2 must be between 1 and 1');
    expect(await traceLines(trace)).toEqual([]);
    expect(await api().initStatus()).toEqual({ initialized: false });
  });

  it('without --yes and without a terminal it refuses before initialising', async () => {
    const r = await init(`vic-a-${suffix}`);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('without a terminal');
    expect(await api().initStatus()).toEqual({ initialized: false });
  });

  it('killed between the init call and the file write: the resumed command stops loudly, never re-initialises', async () => {
    const name = `vic-crash-${suffix}`;
    const killed = await init(name, ['--yes'], { PLATCTL_TEST_CRASH: 'vault-init:after-init-call' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(await api().initStatus()).toEqual({ initialized: true });
    const trace = path.join(dir, 'crash-resume.trace');
    const resumed = await init(name, ['--yes', '--output', 'json'], { PLATCTL_TRACE_REQUESTS: trace });
    expect(resumed.exitCode).toBe(1);
    expect(resumed.stderr).toContain('VAULT INIT OUTPUT LOST');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ ok: false, result: 'failed' });
    expect(await traceLines(trace)).toEqual(['vault GET /v1/sys/init']);
    await expect(stat(initFiles(name).output)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(JSON.parse(await readFile(initFiles(name).intent, 'utf8'))).toMatchObject({ cluster: name, shares: 3 });
  });

  it('initialises from flags, prints fingerprints and next steps, never key material; a re-run is up to date', async () => {
    await resetBao();
    const name = `vic-ok-${suffix}`;
    const r = await init(name, ['--yes', '--output', 'json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const out = JSON.parse(await readFile(initFiles(name).output, 'utf8'));
    expect(out).toMatchObject({ shares: 3, threshold: 2 });
    expect(json).toMatchObject({
      ok: true,
      result: 'applied',
      file: initFiles(name).output,
      outputs: { fingerprints: holders.map((k) => k.fingerprint), initialized: true },
    });
    expect(Object.keys(json.outputs).sort()).toEqual(['fingerprints', 'initialized', 'outputSha256']);
    for (const fp of [...holders.map((k) => k.fingerprint), rootHolder.fingerprint]) expect(r.stderr).toContain(fp);
    expect(r.stderr).toContain(`platctl vault unseal ${name}`);
    for (const ct of [...out.keys_base64, ...out.keys, out.root_token]) {
      expect(r.stdout + r.stderr).not.toContain(ct.slice(0, 40));
    }
    const trace = path.join(dir, 'rerun.trace');
    const again = await init(name, ['--yes', '--output', 'json'], { PLATCTL_TRACE_REQUESTS: trace });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ result: 'up-to-date', outputs: json.outputs });
    expect(await traceLines(trace)).toEqual(['vault GET /v1/sys/init']);
  });
});
