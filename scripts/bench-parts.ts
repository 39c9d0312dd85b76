/** The measurements behind `npm run bench`, one function each. Numbers only: no asserts, no thresholds. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { connectKube, type KubeClient, type KubeObject } from '../src/clients/kube.js';
import { TENANT_LABEL } from '../src/tenants/manifests.js';
import { applyIam, destroyIam } from '../steps/iam.js';
import { awsCluster, awsContext, uniqueCluster } from '../test/helpers/aws-context.js';
import { storedDeployKeys } from '../test/lab/git-host-admin.js';
import { type LabEnv, revokeKey } from '../test/lab/lab.js';
import { readPidRecord } from '../test/lab/proc.js';
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

/** Pushes one folder per tenant (a ConfigMap each), as the teams would to their repositories: one commit. */
async function pushTenantSources(lab: LabEnv, names: readonly string[]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'platctl-bench-src-'));
  const git = (args: string[]) =>
    execa('git', args, { cwd: dir, env: { ...process.env, GIT_SSH_COMMAND: lab.gitSshCommand } });
  try {
    await git(['clone', '-q', '--branch', 'main', lab.fleetUrl, '.']);
    for (const name of names) {
      mkdirSync(path.join(dir, 'tenants-src', name), { recursive: true });
      writeFileSync(
        path.join(dir, 'tenants-src', name, 'app.yaml'),
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  team: ${name}\n`,
      );
    }
    await git(['add', '-A']);
    const staged = await git(['diff', '--cached', '--quiet']).catch(() => undefined);
    if (staged) return;
    await git([
      '-c',
      'user.name=bench',
      '-c',
      'user.email=bench@lab.invalid',
      'commit',
      '-q',
      '-m',
      'bench: tenant sources',
    ]);
    await git(['push', '-q', 'origin', 'HEAD:main']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Flux = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };
/** A Flux object's Ready condition is True. */
const isReady = (o: Flux) => Boolean(o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

/** The lab services whose CPU time a profile reports (the sshd listener's includes its finished sessions'). */
const PROFILED = [
  'kube-apiserver',
  'etcd',
  'source-controller',
  'kustomize-controller',
  'helm-controller',
  'notification-controller',
  'sshd',
  'gitea',
  'kube-controller-manager',
  'kwok',
];

/**
 * CPU seconds (user + system, waited-for children included) each profiled lab service and this process have
 * used so far. CPU time, unlike wall time, hardly depends on how busy the rest of the machine is.
 */
export function cpuSeconds(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of PROFILED) {
    const rec = readPidRecord(name);
    if (!rec) continue;
    try {
      // Fields after the command's ")": state is [0], utime [11], stime [12], cutime [13], cstime [14].
      const f = readFileSync(`/proc/${rec.pid}/stat`, 'utf8').split(') ')[1]!.split(' ').map(Number);
      out[name] = (f[11]! + f[12]! + f[13]! + f[14]!) / 100;
    } catch {
      // Not running.
    }
  }
  const own = process.cpuUsage();
  out.bench = (own.user + own.system) / 1e6;
  return out;
}

/** `after - before`, per name, rounded to 0.1 s, largest first. */
export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after)
      .map((k) => [k, Math.round(((after[k] ?? 0) - (before[k] ?? 0)) * 10) / 10] as const)
      .sort((a, b) => b[1] - a[1]),
  );
}

/** How many of the named tenants' own objects of a kind (`<name>/<name>`) are Ready. */
async function readyCount(kube: KubeClient, kind: 'Kustomization' | 'GitRepository', want: Set<string>) {
  const apiVersion = kind === 'Kustomization' ? 'kustomize.toolkit.fluxcd.io/v1' : 'source.toolkit.fluxcd.io/v1';
  const all = await kube.list<Flux>(apiVersion, kind, { labelSelector: TENANT_LABEL });
  return all.filter((k) => want.has(k.metadata.name) && k.metadata.namespace === k.metadata.name && isReady(k)).length;
}

/**
 * Waits until every named tenant's Kustomization (`<name>/<name>`) is Ready; returns when, or throws at the
 * deadline. With `say`, tells how many sources and Kustomizations are Ready (on a change, or every 5 s).
 */
async function tenantsReady(
  lab: LabEnv,
  names: readonly string[],
  timeoutMs: number,
  o: { say?: (m: string) => void } = {},
): Promise<number> {
  const kube = await connectKube({ kubeconfig: lab.kubeconfig });
  const want = new Set(names);
  const deadline = performance.now() + timeoutMs;
  let last = '';
  let told = 0;
  for (;;) {
    const ready = await readyCount(kube, 'Kustomization', want);
    if (o.say) {
      const sources = await readyCount(kube, 'GitRepository', want);
      const line = `sources Ready ${sources}/${want.size}, Kustomizations Ready ${ready}/${want.size}`;
      // On every change, and every 5 s without one (a stall shows as such).
      if (line !== last || performance.now() - told > 5000) {
        o.say(line);
        told = performance.now();
      }
      last = line;
    }
    if (ready === want.size) return performance.now();
    if (performance.now() > deadline) throw new Error(`only ${ready} of ${want.size} tenant Kustomizations Ready`);
    await sleep(250);
  }
}

/**
 * Adds `n` tenants to the finished demo cluster in one batch (fleet commit, objects applied, each tenant's own
 * deploy key made), as `platctl add-tenant --apply` does for one. Returns the add's wall time, the time until the
 * real kustomize-controller reports all n tenant Kustomizations Ready (from the start of the add; the sources
 * are the teams' folders, cloned by the real source-controller with each tenant's key), and the state
 * ConfigMap's size. The tenants are removed again (fleet, objects, records, keys) so the demo stays as it was.
 */
export async function addManyTenants(
  lab: LabEnv,
  n: number,
  o: { profile?: boolean; config?: string } = {},
): Promise<{
  ms: number;
  readyMs: number;
  stateBytes: number;
  /** CPU seconds per lab service during the add, and from its end until all Ready. */
  cpu: { add: Record<string, number>; ready: Record<string, number> };
}> {
  const { loadConfig } = await import('../src/config/load.js');
  const { createStepContext } = await import('../src/runner/context.js');
  const { memoryLogger } = await import('../test/helpers/memory-logger.js');
  const { StateSession } = await import('../src/runner/session.js');
  const { addTenants, resolveTenant } = await import('../src/tenants/tenants.js');
  const { planLive, runPlan } = await import('../src/tenants/live.js');
  const { syncTenantFleet, tenantDir, tenantsIndexFile } = await import('../src/tenants/fleet.js');
  const { requestReconcile, syncRefs } = await import('../src/flux/wait.js');
  const cluster = (await loadConfig(path.resolve(root, o.config ?? demoConfig))).clusters[0]!;
  const kube = await connectKube({ kubeconfig: lab.kubeconfig });
  const { createLogger } = await import('../src/log.js');
  let t0 = performance.now();
  const stamp = (m: string) => process.stderr.write(`  ${Math.round(performance.now() - t0)} ms ${m}\n`);
  // Profiling: the add's own log lines and progress, stamped with the time since the add started.
  // (The new keys' lines, three per tenant, are left out.)
  const keyLine = /^(. )?(ssh-ed25519 |ecdsa-sha2-|► add this public key|✚ Secret \S+: deploy key)/;
  const log = o.profile
    ? createLogger({ write: (l) => (keyLine.test(l) ? undefined : stamp(l.trimEnd())), debug: true })
    : memoryLogger();
  const names = Array.from({ length: n }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
  await pushTenantSources(lab, names);
  const { session, state } = await StateSession.open({
    cluster: 'demo',
    log,
    command: 'bench',
    kube: async () => kube,
    lock: true,
  });
  const ctx = createStepContext({
    cluster,
    log,
    kube: async () => kube,
    yes: true,
    deep: false,
    outputs: (id: string) => state.steps[id]?.outputs ?? {},
    progress: o.profile ? (m: string) => stamp(`… ${m}`) : () => {},
  });
  const io = { store: session.store, state };
  try {
    const specs = names.map((name) =>
      resolveTenant(cluster, name, { repo: lab.fleetUrl, path: `./tenants-src/${name}` }),
    );
    const cpu0 = cpuSeconds();
    const t = performance.now();
    t0 = t;
    await addTenants(ctx, specs, { ...io, apply: true });
    const ms = performance.now() - t;
    const cpu1 = cpuSeconds();
    const readyMs = (await tenantsReady(lab, names, 300_000, o.profile ? { say: stamp } : {})) - t;
    const cpu = { add: cpuDelta(cpu0, cpu1), ready: cpuDelta(cpu1, cpuSeconds()) };
    const cm = await kube.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'platctl-system',
      name: 'platctl-state',
    });
    const stateBytes = Buffer.byteLength(cm?.data?.['state.json'] ?? '');
    return { ms, readyMs, stateBytes, cpu };
  } finally {
    // Out of the fleet (so Flux does not bring them back), out of the cluster, out of state, keys revoked.
    const keys = (await storedDeployKeys(kube)).filter((k) => names.some((nm) => k.secret.startsWith(`${nm}/`)));
    const remaining = Object.keys(io.state.records.tenants ?? {}).filter((nm) => !names.includes(nm));
    await syncTenantFleet([tenantsIndexFile(cluster, remaining)], names.map(tenantDir), {
      exec: ctx.exec,
      log,
      cluster,
      message: 'bench: remove the benchmark tenants',
    });
    await requestReconcile(kube, syncRefs()).catch(() => undefined);
    await runPlan(kube, await planLive(kube, names, []));
    await session.store.update((st) => {
      for (const name of names) delete st.records.tenants?.[name];
    });
    for (const k of keys) await revokeKey(k.publicKey);
    await session.close();
  }
}

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
