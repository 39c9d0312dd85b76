/**
 * The lab's stand-in for the containers of the flux-system pods: a small loop (a lab service of its own, started
 * at `lab up`) that runs each real Flux controller as a host process while its Deployment has a Running pod (the
 * real scheduler placed it on a kwok node), with that pod's args (flux-controllers.ts: the Deployment's, so the
 * lockdown flags platctl patches in take effect), and stops it when there is none: the Deployment deleted (a
 * teardown, an uninstall), scaled to 0, or its pod Pending (no schedulable node). A new pod (a rollout after
 * platctl changed the args, a reschedule) restarts the process, as a new container would be.
 *
 * Each controller authenticates as the ServiceAccount its Deployment names, with a token from the TokenRequest
 * API in a file the loop refreshes, so install.yaml's RBAC is all it gets.
 *
 * Tests may hold controllers down (`holdFluxControllers`), as when their pods cannot start (an image that
 * cannot be pulled): the loop then keeps them stopped whatever their Deployments say.
 *
 * Run: `node --import tsx test/lab/flux-host.ts` (lab.ts starts it); it logs to `.lab/logs/flux-host.log`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type KubeObject, kubeClientOver } from '../../src/clients/kube.js';
import { httpsTransport } from '../../src/clients/kube-transport.js';
import { labPaths } from './config.js';
import {
  controllerPaths,
  controllerSpec,
  FLUX_CONTROLLER_NAMES,
  FLUX_NAMESPACE,
  type FluxController,
  type ManagerContainer,
  serviceAccountKubeconfig,
} from './flux-controllers.js';
import { binPaths } from './install.js';
import { apiserverUrl } from './kube.js';
import { pkiPaths } from './pki.js';
import { type Ports, readPorts } from './ports.js';
import { isRunning, readPidRecord, stopService } from './proc.js';
import { ensureService, type ServiceSpec } from './service.js';

type Deployment = KubeObject & {
  metadata: { deletionTimestamp?: string };
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
};
type Pod = KubeObject & {
  metadata: { uid?: string; deletionTimestamp?: string; creationTimestamp?: string };
  spec?: { serviceAccountName?: string; nodeName?: string; containers?: ManagerContainer[] };
  status?: { phase?: string };
};

/** The newest Running pod of a Deployment (its selector's labels), if any: what the host process stands in for. */
export function runningPod(d: Deployment | undefined, pods: readonly Pod[]): Pod | undefined {
  const want = Object.entries(d?.spec?.selector?.matchLabels ?? {});
  if (!d || d.metadata.deletionTimestamp || want.length === 0) return undefined;
  return pods
    .filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
    .filter((p) => want.every(([k, v]) => p.metadata.labels?.[k] === v))
    .sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))[0];
}

/** tsx's ESM loader (`node --import <it> file.ts`), resolved from this checkout's node_modules. */
function tsxLoader(): string {
  const pkgFile = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, unknown> };
  const entry = typeof pkg.exports?.['.'] === 'string' ? pkg.exports['.'] : './dist/loader.mjs';
  return pathToFileURL(join(dirname(pkgFile), entry)).href;
}

/** The host loop as a lab service; its own source is the fingerprint, so editing it restarts it. */
export function fluxHostSpec(): ServiceSpec {
  const self = fileURLToPath(import.meta.url);
  const sources = [self, join(dirname(self), 'flux-controllers.ts')].map((f) => readFileSync(f, 'utf8'));
  return {
    name: 'flux-host',
    version: 'lab',
    address: `runs the controllers of Running pods in ${FLUX_NAMESPACE}`,
    cmd: process.execPath,
    args: ['--import', tsxLoader(), self],
    fingerprint: sources.join('\n'),
    ready: async () => isRunning(readPidRecord('flux-host')),
  };
}

/** Path of the file listing the controllers tests hold down (one name a line). */
export function holdFile(dir = labPaths().run): string {
  return join(dir, 'flux-host.hold');
}

/** Keeps the named controllers stopped until {@link releaseFluxControllers} (as pods that cannot start). */
export async function holdFluxControllers(names: readonly FluxController[]): Promise<void> {
  await writeFile(holdFile(), `${names.join('\n')}\n`);
}

/** Lets held controllers run again. */
export async function releaseFluxControllers(): Promise<void> {
  await rm(holdFile(), { force: true });
}

function held(): Set<string> {
  if (!existsSync(holdFile())) return new Set();
  return new Set(readFileSync(holdFile(), 'utf8').split('\n').filter(Boolean));
}

/** How often the loop looks at the Deployments, and how long a token is used before a fresh one is written. */
const POLL_MS = 500;
const TOKEN_REFRESH_MS = 20 * 60_000;
const TOKEN_TTL_S = 3600;

const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);

async function main(): Promise<void> {
  const ports = readPorts() as Ports;
  const bins = binPaths();
  const pki = pkiPaths();
  const transport = await httpsTransport({ kubeconfig: labPaths().kubeconfig });
  const kube = kubeClientOver(transport);
  /** Per controller: the ServiceAccount (uid) its token is for, and when the token was written. */
  const tokens = new Map<FluxController, { sa: string; at: number }>();
  /** Per controller that failed to start: how often, and not before when to try again. */
  const backoff = new Map<FluxController, { n: number; until: number }>();

  const writeToken = async (name: FluxController, sa: string) => {
    const res = await transport.request('POST', `/api/v1/namespaces/${FLUX_NAMESPACE}/serviceaccounts/${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: TOKEN_TTL_S },
    });
    if (res.status !== 201) throw new Error(`TokenRequest for ServiceAccount ${sa}: HTTP ${res.status} ${res.body}`);
    const token = (JSON.parse(res.body) as { status: { token: string } }).status.token;
    const p = controllerPaths(name);
    await Promise.all([mkdir(p.tmp, { recursive: true }), mkdir(p.storage, { recursive: true })]);
    await writeFile(p.token, token, { mode: 0o600 });
    await writeFile(p.kubeconfig, serviceAccountKubeconfig(apiserverUrl(ports), pki.caCert, p.token), { mode: 0o600 });
  };

  const reconcile = async (
    name: FluxController,
    d: Deployment | undefined,
    pods: readonly Pod[],
    hold: Set<string>,
  ) => {
    const pod = runningPod(d, pods);
    if (!pod || hold.has(name)) {
      tokens.delete(name);
      backoff.delete(name);
      const why = !d ? 'no Deployment' : hold.has(name) ? 'held' : 'no Running pod';
      if (await stopService(name)) log(`${name}: stopped (${why})`);
      return;
    }
    const sa = pod.spec?.serviceAccountName ?? 'default';
    const container = pod.spec?.containers?.[0] ?? {};
    const podKey = `${sa}/${pod.metadata.uid}`;
    const t = tokens.get(name);
    if (!t || t.sa !== podKey || Date.now() - t.at > TOKEN_REFRESH_MS) {
      await writeToken(name, sa);
      tokens.set(name, { sa: podKey, at: Date.now() });
    }
    // Another pod (a rollout, a reschedule) is another container: the pod's uid is the fingerprint.
    const spec = { ...controllerSpec(name, container, { bins, ports }), fingerprint: `${pod.metadata.uid}` };
    const before = readPidRecord(name);
    const back = backoff.get(name);
    if (!isRunning(before) && back && Date.now() < back.until) return;
    try {
      const rec = await ensureService(spec);
      backoff.delete(name);
      if (!isRunning(before) || before.pid !== rec.pid) log(`${name}: running (pid ${rec.pid}) ${spec.args.join(' ')}`);
    } catch (err) {
      // As a kubelet's CrashLoopBackOff: 1 s, 2 s, 4 s ... 30 s between attempts.
      const n = (back?.n ?? 0) + 1;
      backoff.set(name, { n, until: Date.now() + Math.min(30_000, 1000 * 2 ** (n - 1)) });
      throw err;
    }
  };

  log(`watching the Deployments and pods in ${FLUX_NAMESPACE} for ${FLUX_CONTROLLER_NAMES.join(', ')}`);
  let lastError = '';
  for (;;) {
    try {
      const [deployments, pods] = await Promise.all([
        kube.list<Deployment>('apps/v1', 'Deployment', { namespace: FLUX_NAMESPACE }),
        kube.list<Pod>('v1', 'Pod', { namespace: FLUX_NAMESPACE }),
      ]);
      const hold = held();
      const results = await Promise.allSettled(
        FLUX_CONTROLLER_NAMES.map((n) =>
          reconcile(
            n,
            deployments.find((d) => d.metadata.name === n),
            pods,
            hold,
          ),
        ),
      );
      const errors = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason?.message ?? r.reason)] : []));
      const text = errors.join('; ');
      if (text && text !== lastError) log(`error: ${text}`);
      lastError = text;
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (text !== lastError) log(`error: ${text}`);
      lastError = text;
    }
    await sleep(POLL_MS);
  }
}

/** Runs the loop when this file is the entry point (lab.ts starts it; tests only import the hold helpers). */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Stopping the host leaves the controllers to `lab down` (which stops the host first, then them).
  process.on('SIGTERM', () => process.exit(0));
  await main();
}
