/**
 * The hand-off on the REAL demo pipeline (built CLI, examples/lab/platform.yaml, the lab): after `platctl bootstrap
 * demo`, the real helm-controller (the lab runs the Flux controllers) takes over the Helm releases the istio and
 * vault steps installed: it finds each one in Helm's storage and upgrades it in place, with the same chart and
 * values, so each name keeps one release, one revision further. The charts come from the lab's loopback chart
 * repository (flux.charts); the pods are kwok's, Ready after the pod-ready delay, so helm's wait is real.
 * PLAYED: only the admin of the sshd git server, which this file does not need (the fleet repo is on Gitea).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { bootstrap, type CliResult, cleanDemo, type Demo, setupDemo, stopStrayRuns } from '../helpers/e2e.js';

let demo: Demo;
let run: CliResult;

type HelmRelease = KubeObject & {
  spec: { releaseName: string; targetNamespace: string; chart: { spec: { chart: string; version: string } } };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
};

const helm = (args: string[]) =>
  execa(demo.lab.bins.helm, [...args, '--kubeconfig', demo.lab.kubeconfig, '--output', 'json']).then(
    (r) => JSON.parse(r.stdout) as unknown,
  );

beforeAll(async () => {
  demo = await setupDemo('adoption');
  run = await bootstrap(demo);
}, 600_000);
afterAll(async () => {
  await stopStrayRuns();
  if (demo) await cleanDemo(demo);
}, 600_000);

describe('Flux adopts the releases bootstrap installed', () => {
  it('bootstraps the demo', () => {
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('helm-controller upgrades each release in place: one release per name, the same chart and values', async () => {
    const list = () =>
      demo.kube.list<HelmRelease>('helm.toolkit.fluxcd.io/v2', 'HelmRelease', { namespace: 'flux-system' });
    const ready = (r: HelmRelease) => r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    let releases: HelmRelease[] = [];
    for (let i = 0; i < 600 && !(releases.length === 4 && releases.every(ready)); i++) {
      releases = await list();
      await sleep(500);
    }
    const show = releases.map((r) => `${r.metadata.name}: ${JSON.stringify(r.status?.conditions)}`).join('\n');
    expect(releases.map((r) => r.metadata.name).sort(), show).toEqual([
      'istio-base',
      'istio-ingress',
      'istiod-1-30-3',
      'vault',
    ]);
    expect(releases.every(ready), show).toBe(true);

    for (const r of releases) {
      const { releaseName: name, targetNamespace: ns } = r.spec;
      const all = (await helm(['list', '--all', '--namespace', ns, '--filter', `^${name}$`])) as unknown[];
      expect(all, `${ns}/${name}: one release`).toHaveLength(1);
      const history = (await helm(['history', name, '--namespace', ns])) as {
        revision: number;
        status: string;
        chart: string;
        description: string;
      }[];
      const last = history.at(-1)!;
      const before = history.at(-2)!;
      // platctl's install (and its own upgrades), then helm-controller's upgrade on top.
      expect(before, `${ns}/${name}: the release platctl installed`).toMatchObject({ status: 'superseded' });
      expect(last, `${ns}/${name}`).toMatchObject({
        status: 'deployed',
        description: 'Upgrade complete',
        chart: `${r.spec.chart.spec.chart}-${r.spec.chart.spec.version}`,
      });
      expect(last.chart).toBe(before.chart);
      const values = (rev: number) => helm(['get', 'values', name, '--namespace', ns, '--revision', String(rev)]);
      expect(await values(last.revision), `${ns}/${name}: values unchanged by the adoption`).toEqual(
        await values(before.revision),
      );
    }
  });
});
