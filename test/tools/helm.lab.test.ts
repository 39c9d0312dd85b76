/**
 * The Helm wrapper, the real thing: the lab's helm against the lab's kube-apiserver, with a tiny chart written
 * by this test. The argv shape, error translation and recovery are unit tests (helm.test.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, type KubeObject } from '../../src/clients/kube.js';
import { createHelm } from '../../src/tools/helm.js';
import { chartSource, expectedChartVersion } from '../../src/tools/helm-chart.js';
import { ensureRelease } from '../../src/tools/helm-ensure.js';
import { readDeployedRelease } from '../../src/tools/helm-release.js';
import { recordingExec } from '../helpers/helm-context.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { lab } from '../lab/env.js';

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
