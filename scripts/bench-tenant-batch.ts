/**
 * The bench's 100-tenant batch (`tenants_100_ms`, `tenants_100_ready_ms`): each tenant with its own repository and
 * deploy key, added in one batch as `add-tenant --apply` does, then waited for until the real kustomize-controller
 * reports every tenant Kustomization Ready. Numbers only: no asserts, no thresholds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from '../src/aws/parallel.js';
import { connectKube, type KubeClient, type KubeObject } from '../src/clients/kube.js';
import { TENANT_LABEL } from '../src/tenants/manifests.js';
import { storedDeployKeys } from '../test/lab/git-host-admin.js';
import { ensureRepo } from '../test/lab/git-ssh.js';
import { type LabEnv, revokeKey } from '../test/lab/lab.js';
import { readPidRecord } from '../test/lab/proc.js';
import { type Flux, isReady } from './bench-parts.js';
import { demoConfig, root } from './demo-lib.js';

/** A team's repository on the lab's git server: `teams/<name>.git`, beside the fleet repository. */
export const teamRepo = (lab: LabEnv, name: string) => new URL(`teams/${name}.git`, lab.fleetUrl).href;

/**
 * Gives every tenant its own repository (one commit: a ConfigMap at the root), as teams have them: a deploy key
 * belongs to one repository (GitHub refuses a key already in use), and each tenant gets its own key. Existing
 * repositories are kept; made 8 at a time, before the add is timed.
 */
async function ensureTeamRepos(names: readonly string[]): Promise<void> {
  await mapLimit(names, 8, (name) =>
    ensureRepo(`teams/${name}.git`, {
      'app.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  team: ${name}\n`,
    }),
  );
}

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
  const { planLive, runPlan, waitGone } = await import('../src/tenants/live.js');
  const { syncTenantFleet, tenantDir, tenantsIndexFile } = await import('../src/tenants/fleet.js');
  const { requestReconcile, syncRefs, waitForSync } = await import('../src/flux/wait.js');
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
  await ensureTeamRepos(names);
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
    const specs = names.map((name) => resolveTenant(cluster, name, { repo: teamRepo(lab, name), path: './' }));
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
    const removal = await syncTenantFleet([tenantsIndexFile(cluster, remaining)], names.map(tenantDir), {
      exec: ctx.exec,
      log,
      cluster,
      message: 'bench: remove the benchmark tenants',
    });
    // Flux applies the removal before the leftovers go: a root sync of the add still running would put back the
    // flux-system/tenant-<t> Kustomizations deleted under it, and they would prune the next batch's namespaces.
    const requested = await requestReconcile(kube, syncRefs());
    if (removal.revision)
      await waitForSync(kube, { revision: removal.revision, requested, timeoutMs: 180_000, progress: () => {} });
    await runPlan(kube, await planLive(kube, names, []));
    await session.store.update((st) => {
      for (const name of names) delete st.records.tenants?.[name];
    });
    for (const k of keys) await revokeKey(k.publicKey);
    await session.close();
    // Flux prunes the removed flux-system/tenant-<t> Kustomizations' inventories (the tenants' namespaces) on its
    // own time: a next batch with the same names must not start while that still deletes what it adds.
    const left = names.flatMap((t) => [
      { apiVersion: 'v1', kind: 'Namespace', name: t },
      {
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        namespace: 'flux-system',
        name: `tenant-${t}`,
      },
    ]);
    await waitGone(kube, left, { timeoutMs: 180_000 });
  }
}
