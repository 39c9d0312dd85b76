/**
 * The real Flux controllers (source, kustomize, helm, notification), built from their Go modules, run as host
 * processes standing in for the flux-system pods. This file says HOW one runs: the args of its Deployment (so
 * the lockdown flags platctl patches in take effect) with the few that cannot work off-cluster replaced by
 * loopback ones, its own ServiceAccount's token (so install.yaml's RBAC is what it gets), and its probes.
 * `flux-host.ts` decides WHEN: while its Deployment has a Running pod.
 *
 * Replaced flags: `--metrics-addr`, `--health-addr`; `--enable-leader-election` (off: outside a pod
 * controller-runtime cannot tell which namespace holds the lease, and one process needs no election); `--events-addr` (the Deployments post events to
 * `notification-controller.flux-system.svc.cluster.local.`, a name the host's resolver would send off the
 * machine; notification-controller listens on it); source-controller's `--storage-path`, `--storage-addr` and
 * `--storage-adv-addr` (artifact URLs then point at 127.0.0.1); notification-controller's `--receiverAddr`.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { labPaths, VERSIONS } from './config.js';
import type { BinPaths } from './install.js';
import { HOST, type PortName, type Ports } from './ports.js';
import { httpStatus, type ServiceSpec } from './service.js';

/** The namespace Flux runs in (the Deployments' `RUNTIME_NAMESPACE`). */
export const FLUX_NAMESPACE = 'flux-system';

/** Each controller: its binary and its loopback ports. */
export const FLUX_CONTROLLERS = {
  'source-controller': { bin: 'sourceController', metrics: 'sourceMetrics', health: 'sourceHealth' },
  'kustomize-controller': { bin: 'kustomizeController', metrics: 'kustomizeMetrics', health: 'kustomizeHealth' },
  'helm-controller': { bin: 'helmController', metrics: 'helmMetrics', health: 'helmHealth' },
  'notification-controller': {
    bin: 'notificationController',
    metrics: 'notificationMetrics',
    health: 'notificationHealth',
  },
} as const satisfies Record<string, { bin: keyof BinPaths; metrics: PortName; health: PortName }>;

/** One of the four controllers. */
export type FluxController = keyof typeof FLUX_CONTROLLERS;
/** The controllers, in start order (source first: the others fetch its artifacts). */
export const FLUX_CONTROLLER_NAMES = Object.keys(FLUX_CONTROLLERS) as FluxController[];

/** Where a controller keeps its files: kubeconfig, token, TMPDIR, and source-controller's artifacts. */
export function controllerPaths(name: FluxController, dir = labPaths().data) {
  const base = join(dir, 'flux', name);
  return {
    dir: base,
    kubeconfig: join(base, 'kubeconfig'),
    token: join(base, 'token'),
    tmp: join(base, 'tmp'),
    storage: join(base, 'storage'),
  };
}

/** The lab's loopback addresses of the Flux controllers (what LabEnv hands to tests). */
export function fluxAddresses(ports: Ports) {
  return {
    /** source-controller's artifact server (`--storage-adv-addr`). */
    sourceStorageUrl: `http://${HOST}:${ports.sourceStorage}`,
    /** notification-controller's event server: the other controllers' `--events-addr`. */
    fluxEventsUrl: `http://${HOST}:${ports.notificationEvents}/`,
    /** notification-controller's webhook receiver (`--receiverAddr`): a Receiver's `status.webhookPath` goes after it. */
    fluxReceiverUrl: `http://${HOST}:${ports.notificationReceiver}`,
  };
}

/** The loopback flag values that replace the Deployment's, per controller. */
export function loopbackFlags(name: FluxController, ports: Ports, dataDir = labPaths().data): Record<string, string> {
  const c = FLUX_CONTROLLERS[name];
  const flags: Record<string, string> = {
    'metrics-addr': `${HOST}:${ports[c.metrics]}`,
    'health-addr': `${HOST}:${ports[c.health]}`,
    // controller-runtime finds the lease's namespace only in a pod's service account mount; one process per
    // controller (the Deployments ask for one replica) needs no election.
    'enable-leader-election': 'false',
  };
  if (name === 'notification-controller') {
    // Its --events-addr is where it listens; the others post to it.
    flags['events-addr'] = `${HOST}:${ports.notificationEvents}`;
    flags.receiverAddr = `${HOST}:${ports.notificationReceiver}`;
  } else {
    flags['events-addr'] = fluxAddresses(ports).fluxEventsUrl;
  }
  if (name === 'source-controller') {
    flags['storage-path'] = controllerPaths(name, dataDir).storage;
    flags['storage-addr'] = `${HOST}:${ports.sourceStorage}`;
    flags['storage-adv-addr'] = `${HOST}:${ports.sourceStorage}`;
  }
  return flags;
}

/** Kubernetes' `$(VAR)` expansion in container args (`$$(VAR)` stays literal; unknown variables stay as they are). */
export function expandVars(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$(\$)?\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, escaped: string | undefined, v: string) =>
    escaped ? whole.slice(1) : (env[v] ?? whole),
  );
}

/**
 * The command line of a controller: its Deployment's container args, `$(VAR)`s expanded, with the flags in
 * `replace` dropped (`--flag=v` or `--flag v`) and appended with their loopback values.
 */
export function hostArgs(
  deploymentArgs: readonly string[],
  replace: Record<string, string>,
  env: Record<string, string>,
) {
  const out: string[] = [];
  for (let i = 0; i < deploymentArgs.length; i++) {
    const arg = expandVars(deploymentArgs[i] ?? '', env);
    const m = /^--?([^=]+)(=.*)?$/.exec(arg);
    if (m && m[1]! in replace) {
      // `--flag value`: the value is the next word.
      if (m[2] === undefined && i + 1 < deploymentArgs.length && !deploymentArgs[i + 1]!.startsWith('-')) i++;
      continue;
    }
    out.push(arg);
  }
  for (const [flag, value] of Object.entries(replace)) out.push(`--${flag}=${value}`);
  return out;
}

/** The container of a Deployment as far as the host needs it. */
export interface ManagerContainer {
  args?: string[];
  env?: { name: string; value?: string }[];
}

/** A kubeconfig that authenticates as a ServiceAccount through a token file the host refreshes. */
export function serviceAccountKubeconfig(apiserverUrl: string, caCert: string, tokenFile: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lab', cluster: { server: apiserverUrl, 'certificate-authority': caCert } }],
    users: [{ name: 'serviceaccount', user: { tokenFile } }],
    contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'serviceaccount', namespace: FLUX_NAMESPACE } }],
    'current-context': 'lab',
  });
}

/** The service spec of one controller from its Deployment's manager container. */
export function controllerSpec(
  name: FluxController,
  container: ManagerContainer,
  o: { bins: BinPaths; ports: Ports; dataDir?: string },
): ServiceSpec {
  const c = FLUX_CONTROLLERS[name];
  const p = controllerPaths(name, o.dataDir);
  // Literal env values of the container (TUF_ROOT, ...) on the host, paths under the controller's dir.
  const literal = Object.fromEntries(
    (container.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value.replace(/^\/tmp\b/, p.tmp)]])),
  );
  const env: Record<string, string> = { ...literal, RUNTIME_NAMESPACE: FLUX_NAMESPACE };
  const health = `http://${HOST}:${o.ports[c.health]}`;
  return {
    name,
    version: VERSIONS[name],
    address: name === 'source-controller' ? fluxAddresses(o.ports).sourceStorageUrl : health,
    cmd: o.bins[c.bin],
    args: hostArgs(container.args ?? [], loopbackFlags(name, o.ports, o.dataDir), env),
    env: { ...env, KUBECONFIG: p.kubeconfig, TMPDIR: p.tmp, HOME: p.dir },
    ready: async () => (await httpStatus(`${health}/readyz`)) === 200,
    timeoutMs: 60_000,
  };
}
