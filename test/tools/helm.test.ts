/**
 * The Helm wrapper with a fake exec: argv shape and secrecy of values, error translation, pending-release
 * recovery, chart sources and values diffs. The real helm against the lab is in helm.lab.test.ts.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Exec, ExecResult } from '../../src/clients/exec.js';
import { PlatctlError } from '../../src/errors.js';
import { createHelm, settlePending } from '../../src/tools/helm.js';
import { chartSource, splitChartLabel } from '../../src/tools/helm-chart.js';
import { valuesDiff } from '../../src/tools/helm-ensure.js';

/** A fake exec answering from a script; records argv and what the values file held while helm "ran". */
function scriptedExec(answer: (args: readonly string[]) => Partial<ExecResult>) {
  const seen: { args: string[]; valuesMode?: number; values?: string }[] = [];
  const exec: Exec = {
    async run(_file, args) {
      const entry: (typeof seen)[number] = { args: [...args] };
      const i = args.indexOf('--values');
      if (i >= 0) {
        const file = args[i + 1] ?? '';
        entry.valuesMode = statSync(file).mode & 0o777;
        entry.values = (await import('node:fs')).readFileSync(file, 'utf8');
      }
      seen.push(entry);
      const r = { stdout: '', stderr: '', exitCode: 0, ...answer(args) };
      if (r.exitCode !== 0) {
        throw Object.assign(new PlatctlError('TOOL_FAILED', `helm exited ${r.exitCode}`), { result: r });
      }
      return r;
    },
  };
  return { exec, seen };
}

describe('helm wrapper (fake exec)', () => {
  it('passes values in a 0600 file that is gone afterwards, never on argv', async () => {
    const { exec, seen } = scriptedExec(() => ({}));
    const helm = createHelm(exec, { kubeconfig: '/k/config', context: 'lab' });
    const values = { seal: 'alias/vault-demo', nested: { n: 3 } };
    await helm.upgradeInstall({
      release: 'vault',
      namespace: 'vault',
      chart: chartSource('https://helm.releases.hashicorp.com', 'vault', '0.34.1'),
      values,
    });
    const call = seen[0]!;
    expect(call.args.slice(0, 4)).toEqual(['upgrade', '--install', 'vault', 'vault']);
    expect(call.args).toEqual(expect.arrayContaining(['--repo', 'https://helm.releases.hashicorp.com']));
    expect(call.args).toEqual(expect.arrayContaining(['--version', '0.34.1', '--reset-values']));
    expect(call.args).toEqual(expect.arrayContaining(['--kubeconfig', '/k/config', '--kube-context', 'lab']));
    expect(call.args).not.toContain('--wait');
    expect(call.args.join(' ')).not.toContain('alias/vault-demo');
    expect(call.valuesMode).toBe(0o600);
    expect(JSON.parse(call.values ?? '')).toEqual(values);
    const file = call.args[call.args.indexOf('--values') + 1] ?? '';
    expect(() => statSync(path.dirname(file))).toThrow(/ENOENT/);
  });

  it('a local chart gets no --version and no --repo; an OCI source is prefixed', () => {
    expect(chartSource('oci://registry.example/charts', 'istiod', '1.30.3')).toEqual({
      chart: 'oci://registry.example/charts/istiod',
      version: '1.30.3',
      local: false,
    });
    const local = chartSource(path.join(os.tmpdir(), 'charts'), 'istiod', '1.30.3');
    expect(local).toEqual({ chart: path.join(os.tmpdir(), 'charts', 'istiod'), local: true });
    expect(splitChartLabel('istiod-1.30.3')).toEqual({ name: 'istiod', version: '1.30.3' });
    expect(splitChartLabel('istio-base-1.30.3-beta.1')).toEqual({ name: 'istio-base', version: '1.30.3-beta.1' });
  });

  it('reads an absent release as undefined and an absent uninstall as false', async () => {
    const { exec } = scriptedExec(() => ({ exitCode: 1, stderr: 'Error: release: not found' }));
    const helm = createHelm(exec);
    expect(await helm.status('x', 'ns')).toBeUndefined();
    expect(await helm.getValues('x', 'ns')).toBeUndefined();
    expect(await helm.uninstall('x', 'ns')).toBe(false);
  });

  it('translates failures into errors that name the release and say what to do', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress',
        'TOOL_FAILED',
        /helm rollback vault -n vault/,
      ],
      [
        'Error: Kubernetes cluster unreachable: dial tcp 127.0.0.1:1: connect: connection refused',
        'KUBE_UNREACHABLE',
        /kubeconfig/,
      ],
      [
        'Error: Unable to continue with install: MutatingWebhookConfiguration "istio-revision-tag-prod-stable" in namespace "" exists and cannot be imported into the current release: invalid ownership metadata',
        'TOOL_FAILED',
        /meta\.helm\.sh\/release-name/,
      ],
      ['Error: failed calling webhook "rev.validation.istio.io": context deadline exceeded', 'TOOL_FAILED', /15017/],
    ];
    for (const [stderr, code, hint] of cases) {
      const helm = createHelm(scriptedExec(() => ({ exitCode: 1, stderr })).exec);
      const err = await helm
        .upgradeInstall({ release: 'vault', namespace: 'vault', chart: { chart: '/c', local: true }, values: {} })
        .catch((e: PlatctlError) => e);
      expect(err).toBeInstanceOf(PlatctlError);
      expect((err as PlatctlError).code).toBe(code);
      expect(`${(err as PlatctlError).message} ${(err as PlatctlError).hint}`).toMatch(hint);
    }
  });

  it('settles a pending release: uninstall a pending install, roll back a pending upgrade', async () => {
    for (const [status, verb] of [
      ['pending-install', 'uninstall'],
      ['pending-upgrade', 'rollback'],
    ] as const) {
      const { exec, seen } = scriptedExec((args) =>
        args[0] === 'status' ? { stdout: JSON.stringify({ info: { status }, version: 2, config: {} }) } : {},
      );
      expect(await settlePending(createHelm(exec), 'istiod-1-30-3', 'istio-system')).toBeDefined();
      expect(seen.map((s) => s.args[0])).toEqual(['status', verb]);
    }
    const { exec, seen } = scriptedExec(() => ({ stdout: JSON.stringify({ info: { status: 'deployed' } }) }));
    expect(await settlePending(createHelm(exec), 'istiod-1-30-3', 'istio-system')).toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it('values diffs name the paths that differ', () => {
    expect(valuesDiff({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
    expect(valuesDiff({ a: 1, b: { c: [1, 2] } }, { a: 2, b: { c: [2] } })).toEqual(['a', 'b.c']);
    expect(valuesDiff({ a: 1 }, {})).toEqual(['a']);
  });
});
