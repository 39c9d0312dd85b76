/**
 * A loopback Helm chart repository: the fixture charts (../shared/fixtures/charts) packaged with `helm package`
 * and indexed with `helm repo index` into `.lab/charts/<repo>/`, served over plain HTTP by Python's
 * `http.server` on a loopback port. It stands in for the chart mirror an enterprise points Flux at (ECR,
 * Artifactory): the adopted HelmReleases' HelmRepositories point here, so source-controller fetches index and
 * charts without leaving the machine.
 *
 *   <chartsUrl>/istio/              base, istiod, gateway (Istio 1.30.3)
 *   <chartsUrl>/hashicorp/          vault (0.34.1)
 *   <chartsUrl>/aws-ebs-csi-driver/ aws-ebs-csi-driver (2.64.0)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FIXTURES, labPaths } from './config.js';
import type { BinPaths } from './install.js';
import { HOST, type Ports } from './ports.js';
import { runLogged } from './proc.js';
import { httpStatus, type ServiceSpec } from './service.js';

/** Each repository of the lab's chart server, and the fixture chart directories it serves. */
export const CHART_REPOS: Record<string, string[]> = {
  istio: ['istio/base', 'istio/istiod', 'istio/gateway'],
  hashicorp: ['vault'],
  'aws-ebs-csi-driver': ['aws-ebs-csi-driver'],
};

/** The chart server's base URL; a repository is `<url>/<repo>`. */
export function chartsUrl(ports: Ports): string {
  return `http://${HOST}:${ports.charts}`;
}

/** `.lab/charts`. */
export function chartsDir(): string {
  return join(labPaths().dir, 'charts');
}

function chartId(src: string): string {
  const c = parse(readFileSync(join(src, 'Chart.yaml'), 'utf8')) as { name: string; version: string | number };
  return `${c.name}-${c.version}`;
}

/** Packages and indexes whatever is missing or was indexed for another URL (a new port). */
export async function prepareChartRepos(bins: BinPaths, ports: Ports): Promise<void> {
  for (const [repo, charts] of Object.entries(CHART_REPOS)) {
    const dir = join(chartsDir(), repo);
    await mkdir(dir, { recursive: true });
    let changed = false;
    for (const c of charts) {
      const src = join(FIXTURES, 'charts', c);
      if (existsSync(join(dir, `${chartId(src)}.tgz`))) continue;
      await runLogged('charts', bins.helm, ['package', src, '--destination', dir], { logName: 'charts-build' });
      changed = true;
    }
    const url = `${chartsUrl(ports)}/${repo}`;
    const index = join(dir, 'index.yaml');
    const indexed = existsSync(index) && readFileSync(index, 'utf8').includes(`${url}/`);
    if (changed || !indexed) {
      await runLogged('charts', bins.helm, ['repo', 'index', dir, '--url', url], { logName: 'charts-build' });
    }
  }
}

/** The packages served, for the status table and tests (`istio/istiod-1.30.3.tgz`, ...). */
export function servedCharts(): string[] {
  return Object.keys(CHART_REPOS).flatMap((repo) => {
    const dir = join(chartsDir(), repo);
    return existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.tgz'))
          .map((f) => `${repo}/${f}`)
      : [];
  });
}

/**
 * The interpreter `python3` really runs. A version manager's shim (pyenv's is a bash script that execs through
 * `pyenv exec`) would pass through several execs after spawn, and a liveness check that reads /proc during one
 * of them sees no process: start the interpreter itself.
 */
function pythonExecutable(): string {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : 'python3';
}

/** Packages the charts, then returns the HTTP server over `.lab/charts`. */
export async function chartsSpec(bins: BinPaths, ports: Ports): Promise<ServiceSpec> {
  await prepareChartRepos(bins, ports);
  const url = chartsUrl(ports);
  return {
    name: 'charts',
    version: 'python3 http.server',
    address: url,
    cmd: pythonExecutable(),
    args: ['-m', 'http.server', String(ports.charts), '--bind', HOST, '--directory', chartsDir()],
    ready: async () => (await httpStatus(`${url}/istio/index.yaml`)) === 200,
  };
}
