/**
 * The Helm wrapper: argv shape and secrecy of values (fake exec), error translation, pending-release
 * recovery, and the real thing (the lab's helm against the lab's kube-apiserver, with a tiny chart written
 * by this test).
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exec, ExecResult } from '../../src/clients/exec.js';
import { connectKube, type KubeObject } from '../../src/clients/kube.js';
import { PlatctlError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import { createHelm, settlePending } from '../../src/tools/helm.js';
import { chartSource, expectedChartVersion, splitChartLabel } from '../../src/tools/helm-chart.js';
import { ensureRelease, valuesDiff } from '../../src/tools/helm-ensure.js';
import { readDeployedRelease } from '../../src/tools/helm-release.js';
import { recordingExec } from '../helpers/helm-context.js';
import { lab } from '../lab/env.js';

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

describe('helm wrapper (lab: real helm, real apiserver)', () => {
  const env = lab();
  const ns = `helm-test-${process.pid}`;
  let chartDir: string;
  const kubeP = connectKube({ kubeconfig: env.kubeconfig });

  beforeAll(async () => {
    chartDir = await mkdtemp(path.join(os.tmpdir(), 'platctl-chart-'));
    await writeFile(path.join(chartDir, 'Chart.yaml'), 'apiVersion: v2\nname: tiny\nversion: 0.1.2\n');
    await (await import('node:fs/promises')).mkdir(path.join(chartDir, 'templates'));
    await writeFile(
      path.join(chartDir, 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tiny\ndata:\n  colour: {{ .Values.colour | quote }}\n',
    );
    await (await kubeP).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });
  afterAll(async () => {
    await (await kubeP).delete({ apiVersion: 'v1', kind: 'Namespace', name: ns });
    await rm(chartDir, { recursive: true, force: true });
  });

  it('installs, reads back, upgrades only on change, and uninstalls', async () => {
    process.env.PLATCTL_HELM = env.bins.helm;
    const exec = recordingExec();
    const helm = createHelm(exec, { kubeconfig: env.kubeconfig, context: env.kubeContext });
    const chart = chartSource(chartDir, 'tiny', '9.9.9');
    expect(expectedChartVersion(chart)).toBe('0.1.2');
    const log = memoryLogger();
    const spec = { release: 'tiny', namespace: ns, chart, values: { colour: 'blue' } };
    expect(await ensureRelease(helm, spec, log)).toBe('installed');
    const kube = await kubeP;
    const cm = await kube.get<KubeObject & { data: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns,
      name: 'tiny',
    });
    expect(cm?.data.colour).toBe('blue');
    expect(await helm.getValues('tiny', ns)).toEqual({ colour: 'blue' });
    expect((await helm.status('tiny', ns))?.status).toBe('deployed');
    const stored = await readDeployedRelease(kube, 'tiny', ns);
    expect(stored).toMatchObject({ chartName: 'tiny', chartVersion: '0.1.2', values: { colour: 'blue' } });
    const [row] = await helm.list({ namespace: ns });
    expect(row).toMatchObject({ name: 'tiny', status: 'deployed', chart: 'tiny-0.1.2', revision: 1 });

    const before = exec.helmVerbs().filter((v) => v === 'upgrade').length;
    expect(await ensureRelease(helm, spec, log)).toBe('unchanged');
    expect(exec.helmVerbs().filter((v) => v === 'upgrade').length).toBe(before);
    expect(await ensureRelease(helm, { ...spec, values: { colour: 'green' } }, log)).toBe('upgraded');
    expect((await helm.getValues('tiny', ns))?.colour).toBe('green');

    expect(await helm.uninstall('tiny', ns)).toBe(true);
    expect(await helm.uninstall('tiny', ns)).toBe(false);
    expect(await helm.status('tiny', ns)).toBeUndefined();
    expect(await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'tiny' })).toBeUndefined();
  });
});
