/** The measurements behind `npm run bench`, one function each. Numbers only: no asserts, no thresholds. */
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { connectKube, type KubeObject } from '../src/clients/kube.js';
import { applyIam, destroyIam } from '../steps/iam.js';
import { awsCluster, awsContext, uniqueCluster } from '../test/helpers/aws-context.js';
import type { LabEnv } from '../test/lab/lab.js';
import { demoConfig, platctl, root } from './demo-lib.js';

/** Median of a list of numbers. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function timed(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const t = performance.now();
  await execa(file, args, { reject: false, env, extendEnv: false, cwd: root });
  return performance.now() - t;
}

/**
 * `platctl --help` vs `kubectl version --client` (and a bare `node -e ''`), interleaved, `runs` times each.
 * Measured without NODE_EXTRA_CA_CERTS: where it is set (this workplace sets it for its proxy's CA bundle)
 * every Node process parses that whole bundle before running a line of code, ~85 ms here, while kubectl (Go)
 * reads certificates only when it connects. `inherited` is platctl's time with the environment as it is.
 */
export async function coldStart(
  runs = 11,
): Promise<{ platctl: number; kubectl: number; node: number; inherited: number }> {
  const clean = { ...process.env };
  delete clean.NODE_EXTRA_CA_CERTS;
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const d: number[] = [];
  const help = [path.join(root, 'bin', 'platctl'), '--help'];
  for (let i = 0; i < runs; i++) {
    a.push(await timed(process.execPath, help, clean));
    b.push(await timed('kubectl', ['version', '--client'], clean));
    c.push(await timed(process.execPath, ['-e', ''], clean));
    d.push(await timed(process.execPath, help, process.env));
  }
  return { platctl: median(a), kubectl: median(b), node: median(c), inherited: median(d) };
}

/** Lines of a request trace that belong to platctl's own lock (not counted, per the target). */
const isLock = (line: string) =>
  line.includes('/leases/platctl-lock') || line === 'kube GET /api/v1/namespaces/platctl-system';
const isStateWrite = (line: string) => line.includes('/configmaps/platctl-state') && !line.includes(' GET ');

/**
 * A traced `platctl bootstrap demo` run: wall time, requests (lock excluded) and writes (lock and state excluded).
 * `config`: another platform file for the demo cluster (default the demo's).
 */
export async function tracedBootstrap(env: NodeJS.ProcessEnv, extra: string[] = [], config = demoConfig) {
  const trace = path.join(os.tmpdir(), `platctl-trace-${process.pid}-${Date.now()}`);
  const t = performance.now();
  const r = await platctl(
    ['bootstrap', 'demo', '--config', config, '--yes', '--output', 'json', ...extra],
    { ...env, PLATCTL_TRACE_REQUESTS: trace },
    'pipe',
  );
  const ms = performance.now() - t;
  let lines: string[] = [];
  try {
    lines = readFileSync(trace, 'utf8').trim().split('\n').filter(Boolean);
  } finally {
    rmSync(trace, { force: true });
  }
  const counted = lines.filter((l) => !isLock(l));
  const writes = counted.filter((l) => !l.split(' ')[1]?.startsWith('GET') && !isStateWrite(l));
  return {
    ms,
    exitCode: r.exitCode,
    stdout: String(r.stdout ?? ''),
    requests: counted.length,
    writes: writes.length,
    lines,
  };
}

/** Kills a bootstrap inside the registry step (SIGKILL), resumes, and counts the steps the resume re-executes. */
export async function resumeAfterKill(env: NodeJS.ProcessEnv, lab: LabEnv): Promise<number> {
  const kube = await connectKube({ kubeconfig: lab.kubeconfig });
  // Make one step's work missing again, so a bootstrap has something to do and a place to die.
  await kube.delete({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    namespace: 'flux-system',
    name: 'ecr-credentials-sync',
  });
  const killed = await platctl(
    ['bootstrap', 'demo', '--config', demoConfig, '--yes'],
    { ...env, PLATCTL_TEST_CRASH: 'registry:start' },
    'pipe',
  );
  if (killed.signal !== 'SIGKILL') throw new Error(`expected the run to be killed, got exit ${killed.exitCode}`);
  const resumed = await platctl(
    ['bootstrap', 'demo', '--config', demoConfig, '--yes', '--output', 'json'],
    env,
    'pipe',
  );
  const report = JSON.parse(String(resumed.stdout)) as { steps: { result: string }[] };
  return report.steps.filter((s) => s.result === 'applied').length;
}

/**
 * A loopback proxy in front of moto that holds every request for `delayMs` first. moto answers IAM calls in a few
 * milliseconds of (single-threaded) Python, while AWS's IAM takes tens to hundreds of milliseconds a call; without
 * the round trip there is nothing for concurrency to overlap, so the IAM comparison runs through this proxy.
 */
export async function latencyProxy(target: string, delayMs: number): Promise<{ url: string; close: () => void }> {
  const up = new URL(target);
  const server = http.createServer((req, res) => {
    setTimeout(() => {
      const fwd = http.request(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      fwd.on('error', () => res.destroy());
      req.pipe(fwd);
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** Wall time of the IAM step's apply at a concurrency, on a fresh cluster name (destroyed afterwards). */
export async function iamApplyMs(lab: LabEnv, concurrency: number): Promise<number> {
  const name = uniqueCluster('bench-iam');
  const t = awsContext(awsCluster(lab, name), {
    outputs: { cluster: { oidcIssuer: `https://oidc.eks.${lab.region}.amazonaws.com/id/${name.toUpperCase()}` } },
  });
  const start = performance.now();
  await applyIam(t.ctx, { concurrency });
  const ms = performance.now() - start;
  await destroyIam(t.ctx, { concurrency: 4 });
  return ms;
}

/**
 * The first bootstrap of the demo cluster on a fresh lab, the real Flux controllers included. Returns the wall
 * time and the flux step's own duration (install, push, and the wait until the real controllers report Ready at
 * the pushed revision).
 */
export async function firstBootstrap(env: NodeJS.ProcessEnv) {
  const run = await tracedBootstrap(env);
  if (run.exitCode !== 0) throw new Error(`bootstrap failed:\n${run.stdout}`);
  const report = JSON.parse(run.stdout) as { steps: { id: string; durationMs: number }[] };
  return { ms: run.ms, fluxMs: report.steps.find((x) => x.id === 'flux')?.durationMs ?? Number.NaN };
}

/** A Flux object with its status conditions. */
export type Flux = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };
/** A Flux object's Ready condition is True. */
export const isReady = (o: Flux) =>
  Boolean(o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

/**
 * Waits (at most `timeoutMs`) until Flux has taken over the finished demo: every HelmRelease in flux-system Ready.
 * A no-op re-run is a bootstrap of a finished cluster; measured while helm-controller still adopts the releases,
 * it would time their upgrades on the same 2 cores, not platctl. Returns how long it waited, in ms.
 */
export async function waitFluxSettled(lab: LabEnv, timeoutMs = 180_000): Promise<number> {
  const kube = await connectKube({ kubeconfig: lab.kubeconfig });
  const t = performance.now();
  while (performance.now() - t < timeoutMs) {
    const releases = await kube.list<Flux>('helm.toolkit.fluxcd.io/v2', 'HelmRelease', { namespace: 'flux-system' });
    if (releases.length > 0 && releases.every(isReady)) break;
    await sleep(1000);
  }
  return performance.now() - t;
}
