/**
 * Fault injection on the REAL demo pipeline (built CLI, examples/lab/platform.yaml, the lab): a SIGKILL
 * (PLATCTL_TEST_CRASH) at every step boundary and at the in-step points, each resumed by the next run; at
 * the end moto holds exactly one of everything. Then the same for teardown, and the lock between two runs.
 * The fleet repo and its deploy key are made on the lab's Gitea by platctl itself (fleet.provider gitea), and
 * Flux is real (the lab runs its controllers, which clone from Gitea with that key).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../scripts/demo-lib.js';
import { startPlayer } from '../../scripts/demo-player.js';
import type { KubeObject } from '../../src/clients/kube.js';
import { steps } from '../../steps/index.js';
import {
  awsInventory,
  bootstrap,
  cleanDemo,
  cli,
  type Demo,
  readClusterState,
  setupDemo,
  stopStrayRuns,
  teardown,
} from '../helpers/e2e.js';
import { resetBao, resetMoto } from '../lab/lab.js';

let demo: Demo;
let stopPlayer: () => void = () => undefined;

beforeAll(async () => {
  demo = await setupDemo('faults');
  // A clean moto, so the final inventory counts only what this pass made (earlier demos may have left keys).
  await resetMoto(demo.lab.awsEndpoint);
  stopPlayer = await startPlayer(demo.lab, () => undefined);
}, 600_000);
afterEach(stopStrayRuns);
afterAll(async () => {
  stopPlayer();
  // Never leave the Service stuck on its finalizer, whatever failed.
  if (demo) await demo.kube.patch(lbRef, { metadata: { finalizers: null } }).catch(() => undefined);
  if (demo) await demo.kube.delete(lbRef).catch(() => undefined);
  if (demo) await cleanDemo(demo);
}, 600_000);

/** A LoadBalancer Service its (absent) load balancer controller still holds with a finalizer. */
const lbRef = { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'faults-lb' };
const lbService = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: lbRef.name, namespace: lbRef.namespace, finalizers: ['service.k8s.aws/resources'] },
  spec: { type: 'LoadBalancer', ports: [{ port: 80 }], selector: { app: 'none' } },
};

/** Plays the load balancer controller: once the Service is being deleted, waits a little, then lets it go. */
async function releaseWhenTerminating(ref: typeof lbRef): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const svc = await demo.kube.get(ref);
    if (!svc) return;
    if (svc.metadata.deletionTimestamp) {
      await sleep(3000);
      await demo.kube.patch(ref, { metadata: { finalizers: null } });
      return;
    }
    await sleep(200);
  }
}

/** Points inside a step's apply (crashPoint calls), killed between its `start` and `end`. */
const inStep: Record<string, string[]> = {
  cluster: ['before-apply'],
  iam: ['after-provider', 'after-first-role'],
  kms: ['after-create-key'],
  registry: ['after-service-account'],
  storage: ['after-driver'],
  istio: ['after-istio-base'],
  'flux-secret': ['after-create-secret'],
  flux: ['after-install', 'after-push'],
};

/** The first step a dry run says would change, or undefined when everything is up to date. */
async function nextToApply(): Promise<string | undefined> {
  const plan = await bootstrap(demo, ['--dry-run', '--output', 'json']);
  const report = JSON.parse(plan.stdout) as { steps: { id: string; result: string }[] };
  return report.steps.find((s) => s.result === 'would-apply')?.id;
}

describe('fault injection on the demo pipeline', () => {
  it('resumes after a SIGKILL at every boundary of every step that applies, ending with one of each AWS object', async () => {
    // One pass: ask a dry run which step is next, kill a run at its `start` (marked running, nothing done), at
    // each in-step point (half done), and at its `end` (done, not yet recorded); the next run resumes each time.
    const killed: string[] = [];
    const missed: string[] = [];
    // The pipeline's own order (steps/index.ts).
    const order = steps.map((s) => s.id);
    for (let step = await nextToApply(), guard = 0; step && guard < 30; step = await nextToApply(), guard++) {
      const later = order.slice(order.indexOf(step) + 1).map((s) => `${s}:start`);
      for (const point of ['start', ...(inStep[step] ?? []), 'end']) {
        // If this point is not reached (its work was already done by the previous run, so the step is up to
        // date), the run dies at the next step's start instead of running on to the end.
        const run = await bootstrap(demo, [], { PLATCTL_TEST_CRASH: [`${step}:${point}`, ...later].join(',') });
        const at = /PLATCTL_TEST_CRASH: killing myself at (\S+)/.exec(run.stderr)?.[1];
        expect(run.signal, `${step}:${point}\n${run.stderr}`).toBe('SIGKILL');
        killed.push(at ?? '?');
        if (at !== `${step}:${point}`) {
          missed.push(`${step}:${point}`);
          break;
        }
      }
    }
    // Every step that has work to do on the lab was killed at its start (access and access-entries never
    // apply here: kubeconfig access and no access entries configured).
    for (const step of order.filter((id) => id !== 'access' && id !== 'access-entries')) {
      expect(killed, `kills at ${step}`).toEqual(expect.arrayContaining([`${step}:start`]));
    }
    // Only points after a step's own start may be skipped.
    expect(missed.filter((m) => m.endsWith(':start'))).toEqual([]);

    const done = await bootstrap(demo);
    expect(done.exitCode, done.stderr).toBe(0);
    const state = await readClusterState(demo.kube);
    expect(Object.values(state?.steps ?? {}).map((s) => s.status)).toEqual(Array(steps.length).fill('done'));

    const issuer = String(state?.steps.cluster?.outputs?.oidcIssuer ?? '');
    expect(issuer).toMatch(/^https:\/\//);
    const aws = await awsInventory(demo.lab, issuer);
    expect(aws.providers).toHaveLength(1);
    expect(aws.roles.length).toBe(6);
    expect(new Set(aws.roles).size).toBe(aws.roles.length);
    expect(Object.keys(aws.aliases).sort()).toEqual(['alias/platctl/demo/ebs', 'alias/platctl/demo/vault']);
    // One enabled key per alias: the key created before the kill at after-create-key was adopted, not repeated.
    expect(aws.keysByState.Enabled?.length).toBe(2);
    expect(new Set(Object.values(aws.aliases))).toEqual(new Set(aws.keysByState.Enabled));
    // About 40 runs of the pipeline, whose pods now really start (the storage driver's rollout, Vault's servers).
  }, 900_000);

  it('lets exactly one of two concurrent bootstraps proceed; the other exits 3 naming the holder', async () => {
    // The first run holds just after taking the Lease until the test writes the release file.
    const release = path.join(demo.home, 'release');
    const first = bootstrap(demo, [], { PLATCTL_TEST_PAUSE: `run:locked=${release}` });
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: 'platctl-system',
      name: 'platctl-lock',
    };
    let holder: string | undefined;
    for (let i = 0; i < 1500 && !holder; i++) {
      const l = await demo.kube.get<KubeObject & { spec?: { holderIdentity?: string } }>(lease);
      holder = l?.spec?.holderIdentity;
      if (!holder) await sleep(20);
    }
    expect(holder, 'the first run never took the Lease').toBeDefined();
    const second = await bootstrap(demo);
    writeFileSync(release, '');
    expect(second.exitCode, second.stderr).toBe(3);
    expect(second.stderr).toMatch(/locked by \S+@\S+:\d+ \(bootstrap\) for \d+s/);
    const a = await first;
    expect(a.exitCode, a.stderr).toBe(0);
  });

  it('after a lost Vault init answer (kill at vault-init:after-init-call) stops loudly, never re-initialising', async () => {
    // Runs on the finished demo: bring vault-init back to "to do" by wiping the lab's OpenBao first.
    await resetBao();
    const killed = await bootstrap(demo, [], { PLATCTL_TEST_CRASH: 'vault-init:after-init-call' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const resumed = await bootstrap(demo);
    expect(resumed.exitCode).not.toBe(0);
    expect(resumed.stderr).toContain('VAULT INIT OUTPUT LOST');
    expect(resumed.stderr).toContain('will NOT initialise again');
    // The documented recovery (wipe the still-empty Vault) lets the resume finish.
    await resetBao();
    const recovered = await bootstrap(demo);
    expect(recovered.exitCode, recovered.stderr).toBe(0);
  });

  it('resumes a teardown killed before and after destroys and leaves nothing tagged behind', async () => {
    const state = await readClusterState(demo.kube);
    const issuer = String(state?.steps.cluster?.outputs?.oidcIssuer ?? '');
    // A tenant too: teardown removes tenants before the steps.
    const tenant = await cli(demo, [
      'add-tenant',
      'demo',
      'team-x',
      '--config',
      demoConfig,
      '--repo',
      demo.lab.fleetUrl,
      '--apply',
      '--yes',
    ]);
    expect(tenant.exitCode, tenant.stderr).toBe(0);

    // A LoadBalancer Service whose load balancer controller has not let go yet (its finalizer): the teardown
    // deletes it and waits. Killed during that wait, the phase stays recorded running; the next teardown
    // waits on from there while the "controller" (this test) finishes, and only then destroys steps.
    await demo.kube.create(lbService);
    const inWait = await teardown(demo, [], { PLATCTL_TEST_CRASH: 'teardown-prepare:waiting' });
    expect(inWait.signal, inWait.stderr).toBe('SIGKILL');
    expect(inWait.stderr).toContain('PLATCTL_TEST_CRASH: killing myself at teardown-prepare:waiting');
    expect((await readClusterState(demo.kube))?.phases['teardown-prepare']?.status).toBe('running');
    expect((await demo.kube.get(lbRef))?.metadata.deletionTimestamp).toBeDefined();
    const controller = releaseWhenTerminating(lbRef);
    const resumed = await teardown(demo, [], { PLATCTL_TEST_CRASH: 'flux:destroy-start' });
    await controller;
    expect(resumed.signal, resumed.stderr).toBe('SIGKILL');
    expect(resumed.stderr).toMatch(/waiting for 1 Service\/Ingress object\(s\) to be deleted/);
    expect(await demo.kube.get(lbRef)).toBeUndefined();
    const after = await readClusterState(demo.kube);
    expect(after?.phases['teardown-prepare']?.status).toBe('done');
    expect(after?.history.filter((h) => h.step === 'teardown-prepare').map((h) => h.result)).toEqual([
      'started',
      'started',
      'done',
    ]);

    // In teardown order (steps/index.ts reversed): before a destroy, and after one that was not yet recorded.
    const points = [
      'vault:destroy-start',
      'istio:destroy-end',
      'storage:destroy-end',
      'kms:destroy-end',
      'iam:destroy-start',
    ];
    for (const point of points) {
      const run = await teardown(demo, [], { PLATCTL_TEST_CRASH: point });
      expect(run.signal, `${point}\n${run.stderr}`).toBe('SIGKILL');
      expect(run.stderr).toContain(`PLATCTL_TEST_CRASH: killing myself at ${point}`);
    }
    const down = await teardown(demo, ['--output', 'json']);
    expect(down.exitCode, down.stderr).toBe(0);
    const report = JSON.parse(down.stdout) as { steps: { id: string; result: string }[] };
    expect(report.steps.every((s) => s.result === 'destroyed' || s.result === 'not-applied')).toBe(true);
    expect(await readClusterState(demo.kube)).toBeUndefined();
    const journal = JSON.parse(readFileSync(path.join(demo.home, 'demo', 'state.json'), 'utf8'));
    expect(Object.values(journal.steps).map((s) => (s as { status: string }).status)).toEqual(
      Array(steps.length).fill('destroyed'),
    );
    const aws = await awsInventory(demo.lab, issuer);
    expect(aws.providers).toEqual([]);
    expect(aws.roles).toEqual([]);
    expect(aws.keysByState.Enabled ?? []).toEqual([]);
    expect(aws.keysByState.PendingDeletion?.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(aws.aliases)).toEqual([]);
    // None of platctl's namespaces is left: teardown waits until the cluster has finished deleting them.
    const ours = ['platctl-system', 'flux-system', 'istio-system', 'istio-ingress', 'vault', 'apps', 'team-x'];
    const present = await Promise.all(ours.map((name) => demo.kube.get({ apiVersion: 'v1', kind: 'Namespace', name })));
    expect(ours.filter((_, j) => present[j])).toEqual([]);
  });
});
