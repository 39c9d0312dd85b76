/**
 * The bad-input corpus: every file in test/fixtures/bad-input/ is one mistake a user can make. Each must end
 * with its expected exit code, one clear `✗` line naming the field or problem, no stack trace, and state left
 * exactly as it was (local files and the state ConfigMap compared before and after). Each case runs the built CLI
 * (bin/platctl), as a user does.
 */

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { connectKube, type KubeClient } from '../src/clients/kube.js';
import { removeClusterState } from '../src/runner/session.js';
import { ensureSystemNamespace } from '../src/state/configmap.js';
import { ensureBuiltCli } from './helpers/built-cli.js';
import { makeKey, makeKeys, writePrivateKeyFile } from './helpers/pgp-keys.js';
import { builtPlatctl, sandbox } from './helpers/platctl.js';
import { lab } from './lab/env.js';

interface Case {
  description: string;
  set?: Record<string, unknown>;
  unset?: string[];
  rawConfig?: string;
  duplicateCluster?: boolean;
  cluster?: string;
  args?: string[];
  extraArgs?: string[];
  /** Run the real pipeline (steps/index.ts) instead of the engine's test steps. */
  realSteps?: boolean;
  setup?: 'corrupt-journal' | 'corrupt-configmap' | 'unreachable' | 'no-helm' | 'pgp-keys';
  expect: { exit: number; message: string; message2?: string };
}

const dir = 'test/fixtures/bad-input';
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => [f, parse(readFileSync(path.join(dir, f), 'utf8')) as Case] as const);

/** Sets or deletes a dotted path ("clusters.0.vault.keyShares") in a plain object. */
function edit(obj: Record<string, unknown>, dotted: string, value: unknown, remove = false) {
  const parts = dotted.split('.');
  let at: Record<string, unknown> = obj;
  for (const p of parts.slice(0, -1)) {
    at[p] ??= {};
    at = at[p] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (remove) delete at[last];
  else at[last] = value;
}

/** Every file under a folder with its bytes, to prove nothing changed. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(root, p)] = readFileSync(p, 'base64');
    }
  };
  walk(root);
  return out;
}

/** Writes good-0..2.asc, expired.asc, revoked.asc and private.asc into `<dir>/keys`; returns that folder. */
async function pgpKeyFiles(dir: string): Promise<string> {
  const keys = path.join(dir, 'keys');
  mkdirSync(keys, { recursive: true });
  const good = await makeKeys(keys, 'good', 3);
  await makeKey(keys, 'expired', 'expired');
  await makeKey(keys, 'revoked', 'revoked');
  const priv = await writePrivateKeyFile(keys, good[0]!);
  writeFileSync(path.join(keys, 'private.asc'), priv.content);
  return keys;
}

let kube: KubeClient;
const stateRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'platctl-system', name: 'platctl-state' };
beforeAll(async () => {
  // The built CLI, as a user runs it: 56 processes, each a third of the CPU of one under tsx.
  ensureBuiltCli();
  kube = await connectKube({ kubeconfig: lab().kubeconfig });
}, 120_000);
afterAll(async () => {
  await removeClusterState(kube);
});

it('the bad-input corpus has at least 40 cases', () => {
  expect(cases.length).toBeGreaterThanOrEqual(40);
});

// Cases are independent processes with their own PLATCTL_HOME and run concurrently; the one that writes the
// shared state ConfigMap runs on its own afterwards, so the others' before/after comparison holds.
const touchesConfigMap = (c: Case) => c.setup === 'corrupt-configmap';
describe.concurrent('bad-input corpus', () => defineCases(cases.filter(([, c]) => !touchesConfigMap(c))));
describe.sequential('bad-input corpus (state ConfigMap)', () =>
  defineCases(cases.filter(([, c]) => touchesConfigMap(c))));

function defineCases(list: typeof cases) {
  for (const [file, c] of list) {
    it(`${file}: ${c.description}`, async () => {
      const sb = sandbox(lab(), 'demo');
      const env: Record<string, string> = c.realSteps
        ? { ...sb.env }
        : { ...sb.env, PLATCTL_TEST_STEPS: path.resolve('test/helpers/lab-steps.ts') };
      const config = parse(readFileSync(sb.config, 'utf8')) as Record<string, unknown>;
      for (const [k, v] of Object.entries(c.set ?? {})) edit(config, k, v);
      for (const k of c.unset ?? []) edit(config, k, undefined, true);
      if (c.duplicateCluster) (config.clusters as unknown[]).push((config.clusters as unknown[])[0]);
      writeFileSync(sb.config, c.rawConfig ?? stringify(config));
      let args = c.args ?? ['bootstrap', c.cluster ?? 'demo', '--dry-run', ...(c.extraArgs ?? [])];
      if (['bootstrap', 'status', 'teardown', 'doctor', 'vault'].includes(args[0]!) && !args.includes('--config')) {
        args = [...args, '--config', sb.config];
      }
      const journalDir = path.join(sb.home, 'demo');
      mkdirSync(journalDir, { recursive: true });
      if (c.setup === 'corrupt-journal') writeFileSync(path.join(journalDir, 'state.json'), '{"version": 1, "steps": ');
      if (c.setup === 'corrupt-configmap' || c.setup === 'unreachable') {
        writeFileSync(
          path.join(journalDir, 'state.json'),
          JSON.stringify({ version: 1, cluster: 'demo', location: 'cluster' }),
        );
      }
      if (c.setup === 'corrupt-configmap') {
        await removeClusterState(kube);
        // Waits out the namespace's deletion, then creates it afresh.
        await ensureSystemNamespace(kube);
        await kube.create({
          ...stateRef,
          metadata: { name: stateRef.name, namespace: stateRef.namespace },
          data: { 'state.json': 'not json' },
        });
      }
      if (c.setup === 'unreachable') {
        const kc = path.join(sb.dir, 'kubeconfig');
        writeFileSync(
          kc,
          stringify({
            apiVersion: 'v1',
            kind: 'Config',
            clusters: [{ name: 'x', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
            users: [{ name: 'x', user: { token: 'placeholder' } }],
            contexts: [{ name: 'x', context: { cluster: 'x', user: 'x' } }],
            'current-context': 'x',
          }),
        );
        args.push('--kubeconfig', kc);
      }
      if (c.setup === 'pgp-keys') {
        // Key holders made by the test: good ones, an expired one, a revoked one, and a private key file.
        const keys = await pgpKeyFiles(sb.dir);
        args = args.map((a) => a.replace('$KEYS', keys));
      }
      if (c.setup === 'no-helm') {
        const bins = mkdtempSync(path.join(os.tmpdir(), 'platctl-path-'));
        for (const [n, t] of Object.entries({
          git: '/usr/bin/git',
          'ssh-keyscan': '/usr/bin/ssh-keyscan',
          tofu: lab().bins.tofu,
        })) {
          symlinkSync(t, path.join(bins, n));
        }
        env.PATH = `${bins}:${path.dirname(process.execPath)}`;
      }
      const beforeFiles = snapshot(sb.home);
      const beforeCm = (await kube.get(stateRef))?.metadata.resourceVersion;

      const r = await builtPlatctl(args, env);

      expect(r.exitCode, r.all).toBe(c.expect.exit);
      expect(r.stderr).toContain(c.expect.message);
      if (c.expect.message2) expect(r.stderr).toContain(c.expect.message2);
      expect(r.stderr, 'no stack trace without --debug').not.toMatch(/\n\s+at \S+/);
      expect(r.all, 'no key material echoed').not.toMatch(/PRIVATE KEY/);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('✗')).length, `one ✗ line:\n${r.stderr}`).toBe(1);
      expect(snapshot(sb.home), 'local state unchanged').toEqual(beforeFiles);
      expect((await kube.get(stateRef))?.metadata.resourceVersion, 'state ConfigMap unchanged').toBe(beforeCm);
    });
  }
}
