/**
 * The lab's real Flux controllers (flux-host.ts): built from their Go modules, run as host processes while their
 * flux-system Deployments have a Running pod (scheduled onto the kwok nodes), with those pods' args (the lockdown
 * included), as their own ServiceAccounts, on loopback; restarted for a new pod when a Deployment's args change
 * (a rollout), stopped when it is scaled to 0 or deleted.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { installFlux, uninstallFlux } from '../../src/flux/install.js';
import { loadInstallSet } from '../../src/flux/manifests.js';
import { fluxLabSession, labCluster, labKube, uniqueName } from '../helpers/flux-context.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { lab } from './env.js';
import { controllerPaths, FLUX_CONTROLLER_NAMES, type FluxController } from './flux-controllers.js';
import { isRunning, readPidRecord } from './proc.js';
import { httpStatus } from './service.js';

const env = lab();
const kube = await labKube(env);
const cluster = labCluster(env, uniqueName('fluxhost'));
const session = fluxLabSession(env, 'platctl-flux-host-');
const set = await loadInstallSet(cluster);
const deployment = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'flux-system', name });

/** The running process of a controller (pid and argv), once it runs and answers its readiness probe. */
async function running(name: FluxController, ok: (argv: string[]) => boolean = () => true, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = readPidRecord(name);
    if (isRunning(rec)) {
      const argv = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const health = argv.find((a) => a.startsWith('--health-addr='))?.split('=')[1];
      if (ok(argv) && (await httpStatus(`http://${health}/readyz`)) === 200) return { pid: rec.pid, argv };
    }
    if (Date.now() > deadline) throw new Error(`${name} is not running as expected after ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

async function stopped(name: FluxController, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(readPidRecord(name))) {
    if (Date.now() > deadline) throw new Error(`${name} still runs after ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

beforeAll(async () => {
  await session.enter(kube);
  await installFlux(kube, set);
});
afterAll(async () => {
  try {
    await uninstallFlux(kube, set, memoryLogger());
  } finally {
    await session.leave();
  }
});

describe('the real Flux controllers', () => {
  it('run once their Deployments have a Running pod, with its args and loopback addresses', async () => {
    for (const name of FLUX_CONTROLLER_NAMES) {
      const { argv } = await running(name);
      expect(argv[0], name).toBe(
        env.bins[
          (
            {
              'source-controller': 'sourceController',
              'kustomize-controller': 'kustomizeController',
              'helm-controller': 'helmController',
              'notification-controller': 'notificationController',
            } as const
          )[name]
        ],
      );
      expect(argv, name).toContain('--watch-all-namespaces');
      for (const a of argv.filter((x) => /addr=/i.test(x))) expect(a, name).toMatch(/127\.0\.0\.1:\d+/);
    }
    const kc = (await running('kustomize-controller')).argv;
    expect(kc).toEqual(
      expect.arrayContaining([
        '--no-cross-namespace-refs=true',
        '--no-remote-bases=true',
        '--default-service-account=default',
      ]),
    );
    // The scaling patches (flux.concurrent) reach the processes too.
    for (const name of ['source-controller', 'kustomize-controller', 'helm-controller'] as const)
      expect((await running(name)).argv, name).toEqual(
        expect.arrayContaining([`--concurrent=${cluster.flux.concurrent}`, '--requeue-dependency=5s']),
      );
    expect(env.fluxReceiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The webhook receiver answers (404 for a path no Receiver has).
    expect(await httpStatus(`${env.fluxReceiverUrl}/hook/none`)).toBe(404);
  });

  it('authenticate as their own ServiceAccounts (install.yaml RBAC), not as the lab admin', () => {
    for (const name of FLUX_CONTROLLER_NAMES) {
      const token = readFileSync(controllerPaths(name).token, 'utf8');
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
        sub: string;
      };
      expect(claims.sub, name).toBe(`system:serviceaccount:flux-system:${name}`);
    }
  });

  it('restart with the new args when the Deployment changes, and stop when it is scaled to 0 or deleted', async () => {
    const before = await running('notification-controller');
    const ref = deployment('notification-controller');
    type Dep = KubeObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const live = (await kube.get<Dep>(ref))!;
    const c = live.spec.template.spec.containers[0]!;
    c.args = c.args.map((a) => (a === '--log-level=info' ? '--log-level=debug' : a));
    await kube.replace(live);
    const after = await running('notification-controller', (argv) => argv.includes('--log-level=debug'));
    expect(after.pid).not.toBe(before.pid);

    await kube.patch(ref, { spec: { replicas: 0 } });
    await stopped('notification-controller');
    await kube.patch(ref, { spec: { replicas: 1 } });
    await running('notification-controller');

    await kube.delete(deployment('helm-controller'));
    await stopped('helm-controller');
    expect(isRunning(readPidRecord('source-controller'))).toBe(true);
  });
});
