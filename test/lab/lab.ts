/**
 * The local lab's programmatic API: bring it up (idempotently), tell what runs, tear it down.
 * Also re-exports the helpers tests use (env, keys, resets).
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, resolve } from 'node:path';
import { baoSpec, baoUrl } from './bao.js';
import { chartsSpec, chartsUrl } from './charts.js';
import { labDirs, labPaths, REPO_ROOT, VERSIONS } from './config.js';
import { ebsProvisionerSpec } from './ebs-provisioner.js';
import { FLUX_CONTROLLER_NAMES, type FluxController, fluxAddresses } from './flux-controllers.js';
import { fluxHostSpec } from './flux-host.js';
import { fleetUrl, gitSshCommand, sshdSpec, sshPaths } from './git-ssh.js';
import { ensureGiteaAdmin, GITEA_ADMIN, giteaKnownHosts, giteaRepoUrl, giteaSpec, giteaUrl } from './gitea.js';
import { binPaths, installAll, isInstalled } from './install.js';
import { apiserverSpec, apiserverUrl, controllerManagerSpec, etcdSpec, writeKubeconfig } from './kube.js';
import { ensureNodes, kwokSpec, schedulerSpec } from './kwok.js';
import { type LabEnv, makeLabEnv, writeLabEnv } from './lab-env.js';
import { motoSpec, motoUrl } from './moto.js';
import { ensurePki } from './pki.js';
import { type PortName, resolvePorts } from './ports.js';
import { isRunning, readPidRecord, stopService } from './proc.js';
import { ensureService, type ServiceSpec } from './service.js';

export { resetBao } from './bao.js';
export { authorizeKey, resetAuthorizedKeys, resetFleetRepo, revokeKey } from './git-ssh.js';
export { baoProcessEnv, type LabEnv, labProcessEnv, readLabEnv } from './lab-env.js';
export { resetMoto } from './moto.js';
export { LabError } from './proc.js';

/**
 * Services in start order; `down` stops them in reverse. `flux-host` runs the Flux controllers (each a service
 * of its own, started while its Deployment has a Running pod: flux-host.ts), so it is stopped first, then they.
 */
export const SERVICES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'moto',
  'openbao',
  'sshd',
  'gitea',
  'charts',
  'flux-host',
  'ebs-provisioner',
] as const;

/** Which service listens on each port (a running owner keeps its port). */
const PORT_OWNER: Record<PortName, (typeof SERVICES)[number] | FluxController> = {
  etcd: 'etcd',
  etcdPeer: 'etcd',
  apiserver: 'kube-apiserver',
  controllerManager: 'kube-controller-manager',
  scheduler: 'kube-scheduler',
  kwok: 'kwok',
  moto: 'moto',
  bao: 'openbao',
  baoCluster: 'openbao',
  sshd: 'sshd',
  giteaHttp: 'gitea',
  giteaSsh: 'gitea',
  charts: 'charts',
  sourceStorage: 'source-controller',
  sourceMetrics: 'source-controller',
  sourceHealth: 'source-controller',
  kustomizeMetrics: 'kustomize-controller',
  kustomizeHealth: 'kustomize-controller',
  helmMetrics: 'helm-controller',
  helmHealth: 'helm-controller',
  notificationEvents: 'notification-controller',
  notificationReceiver: 'notification-controller',
  notificationMetrics: 'notification-controller',
  notificationHealth: 'notification-controller',
  ebsProvisioner: 'ebs-provisioner',
};

/** One row of `lab status`. */
export interface LabStatusRow {
  component: string;
  address: string;
  version: string;
  /** Undefined when not running (or not a process: helm, tofu). */
  pid?: number;
  running: boolean;
  /** False for tools that are only installed (helm, tofu, the bao CLI). */
  service: boolean;
}

/**
 * Starts whatever is not running and returns the lab's env; installs missing binaries
 * first (slow the first time: Go builds). Idempotent. `avoidPorts`: the ports of other labs up on this machine
 * (global-setup's), never picked even while nothing listens on them yet.
 */
export async function labUp(log: (msg: string) => void = () => {}, avoidPorts: number[] = []): Promise<LabEnv> {
  await installAll(log);
  const p = labPaths();
  await Promise.all([p.logs, p.run, p.data].map((d) => mkdir(d, { recursive: true })));
  const ports = await resolvePorts((name) => isRunning(readPidRecord(PORT_OWNER[name])), avoidPorts);
  const bins = binPaths();
  const pki = await ensurePki();
  await writeKubeconfig(p.kubeconfig, ports, pki);
  const start = async (specs: (ServiceSpec | Promise<ServiceSpec>)[]) => {
    for (const s of specs) await ensureService(await s);
  };
  const results = await Promise.allSettled([
    start([
      etcdSpec(bins, ports),
      apiserverSpec(bins, ports, pki),
      controllerManagerSpec(bins, ports, pki, p.kubeconfig),
      schedulerSpec(bins, ports, p.kubeconfig),
      kwokSpec(bins, ports, pki, p.kubeconfig),
      fluxHostSpec(),
    ]).then(() => ensureNodes(p.kubeconfig)),
    start([motoSpec(bins, ports)]),
    start([baoSpec(bins, ports)]),
    start([sshdSpec(bins, ports)]),
    start([giteaSpec(bins, ports)]),
    start([chartsSpec(bins, ports)]),
  ]);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) throw failed.length === 1 ? failed[0]!.reason : new AggregateError(failed.map((f) => f.reason));
  // Needs the apiserver and moto.
  await ensureService(ebsProvisionerSpec(ports, p.kubeconfig, motoUrl(ports)));
  const s = sshPaths();
  // The operator pushes to both git servers with one key and one known_hosts.
  await addKnownHosts(s.knownHosts, await giteaKnownHosts(ports));
  const gitea = await ensureGiteaAdmin(bins, ports, await readFile(s.operatorPub, 'utf8'));
  const env = makeLabEnv({
    ports,
    bins,
    apiserverUrl: apiserverUrl(ports),
    etcdUrl: `http://127.0.0.1:${ports.etcd}`,
    awsEndpoint: motoUrl(ports),
    vaultAddr: baoUrl(ports),
    fleetUrl: fleetUrl(ports),
    fleetRepoPath: s.fleetRepo,
    caCert: pki.caCert,
    operatorKey: s.operatorKey,
    knownHosts: s.knownHosts,
    gitSshCommand: gitSshCommand(s.operatorKey, s.knownHosts),
    gitea: {
      url: giteaUrl(ports),
      sshPort: ports.giteaSsh,
      user: gitea.username,
      token: gitea.token,
      fleetUrl: giteaRepoUrl(ports, GITEA_ADMIN, 'fleet'),
    },
    chartsUrl: chartsUrl(ports),
    ...fluxAddresses(ports),
  });
  await writeLabEnv(env);
  return env;
}

/** Adds host key lines to a known_hosts file, replacing older lines for the same hosts. */
async function addKnownHosts(file: string, lines: string[]): Promise<void> {
  const hosts = new Set(lines.map((l) => l.split(' ')[0]));
  const kept = (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l && !hosts.has(l.split(' ')[0]));
  await writeFile(file, `${[...kept, ...lines].join('\n')}\n`);
}

/** What runs (services) and what is installed (tools). */
export function labStatus(): LabStatusRow[] {
  // The Flux controllers show only while they run (flux-host starts them while their pods run).
  const fluxRunning = FLUX_CONTROLLER_NAMES.filter((n) => isRunning(readPidRecord(n)));
  const rows: LabStatusRow[] = [...SERVICES, ...fluxRunning].map((name) => {
    const rec = readPidRecord(name);
    const running = isRunning(rec);
    return {
      component: name,
      address: rec?.address ?? '-',
      version: rec?.version ?? '-',
      pid: running ? rec.pid : undefined,
      running,
      service: true,
    };
  });
  const b = binPaths();
  for (const [name, bin] of [
    ['helm', b.helm],
    ['tofu', b.tofu],
    ['bao (cli)', b.bao],
  ] as const) {
    const c = name === 'bao (cli)' ? 'openbao' : name;
    rows.push({
      component: name,
      address: bin,
      version: isInstalled(c) ? VERSIONS[c] : 'not installed',
      running: false,
      service: false,
    });
  }
  return rows;
}

/** Stops every lab process and removes the lab dir (data, keys, logs, env). */
export async function labDown(): Promise<void> {
  const p = labPaths();
  // flux-host first (it would restart the controllers), then anything else with a pid record (the controllers,
  // services this version no longer knows), then the services in reverse start order.
  const names = new Set<string>(['flux-host']);
  if (existsSync(p.run))
    for (const f of readdirSync(p.run))
      if (f.endsWith('.json') && !(SERVICES as readonly string[]).includes(f.slice(0, -5))) names.add(f.slice(0, -5));
  for (const s of [...SERVICES].reverse()) names.add(s);
  for (const name of names) await stopService(name);
  const dir = resolve(p.dir);
  // PLATCTL_LAB_DIR may point anywhere: never wipe the repo, $HOME or /.
  if ([REPO_ROOT, homedir(), '/'].includes(dir) || (basename(dir) !== '.lab' && !existsSync(p.state))) {
    throw new Error(`lab: refusing to remove ${dir}: it does not look like a lab dir`);
  }
  await rm(dir, { recursive: true, force: true });
}

/**
 * Runs `fn` with `PLATCTL_LAB_DIR` naming one lab. A lab's services are detached processes that inherit it when
 * they start, so labs are brought up one after the other (the first one also installs what is missing).
 */
export async function withLabDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PLATCTL_LAB_DIR;
  process.env.PLATCTL_LAB_DIR = dir;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.PLATCTL_LAB_DIR;
    else process.env.PLATCTL_LAB_DIR = saved;
  }
}

/** The lab dir and the test run's other labs beside it (`<labDir>-<n>`, global-setup.ts) that exist. */
export function existingLabDirs(): string[] {
  const [first, ...others] = labDirs(8);
  return [first!, ...others.filter((d) => existsSync(d))];
}
