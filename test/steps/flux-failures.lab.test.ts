/**
 * Step flux against the lab when Flux does NOT get there, provoked for real against the REAL Flux controllers
 * (test/lab/flux-host.ts runs them): a revoked deploy key (source-controller cannot fetch), a broken manifest
 * (kustomize-controller cannot apply), a suspended Kustomization; each stops the wait at once with the
 * object's own message. Controllers whose pods cannot be scheduled (every node cordoned) never run, and the wait
 * runs into the timeout, which names each object and every controller Deployment that never became available.
 * PLAYED: the git host's admin adds the deploy key read-only (seedDeployKey); the test revokes it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syncRefs } from '../../src/flux/wait.js';
import { createFluxStep } from '../../steps/flux.js';
import {
  fleetHead,
  fluxContext,
  fluxLabSession,
  fluxStatus,
  labCluster,
  labKube,
  pushAsOperator,
  seedDeployKey,
  seedPlatformVars,
  uniqueName,
} from '../helpers/flux-context.js';
import { lab } from '../lab/env.js';
import { holdFluxControllers, releaseFluxControllers } from '../lab/flux-host.js';
import { authorizeKey, revokeKey } from '../lab/git-ssh.js';

const env = lab();
const kube = await labKube(env);
const step = createFluxStep({ pollMs: 200 });
const name = uniqueName('fluxfail');
const cluster = labCluster(env, name);
const [, ksRef] = syncRefs();
const session = fluxLabSession(env, 'platctl-flux-fail-');
let deployKey = '';

/**
 * Runs apply with a 10 min Flux timeout and returns its error message. Failing at all (within the test's own
 * timeout) and not with the timeout's message shows the wait stopped on the object's status, not the clock.
 */
async function failsQuickly(what: string): Promise<string> {
  const patient = labCluster(env, name, { flux: { ...cluster.flux, timeout: '10m' } });
  const err = await step.apply(fluxContext(patient, { kube }).ctx).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, what).toBeInstanceOf(Error);
  expect(err?.message, what).not.toContain('within 10m');
  return err?.message ?? '';
}

/** A successful apply: Flux installed (again), the fleet files pushed, the real controllers Ready at the push. */
const succeeds = () => step.apply(fluxContext(cluster, { kube }).ctx);

beforeAll(async () => {
  await session.enter(kube);
  // helm-controller would act on the adoption manifests for releases never installed here.
  await holdFluxControllers(['helm-controller']);
  deployKey = await seedDeployKey(env, kube, cluster);
  await seedPlatformVars(kube, cluster);
  await succeeds();
});
afterEach(async () => {
  await releaseFluxControllers();
  await holdFluxControllers(['helm-controller']);
  await authorizeKey(deployKey, { readOnly: true });
});
afterAll(async () => {
  try {
    // Leave the lab as we found it: no Flux, no key, no controller held.
    await step.destroy(fluxContext(cluster, { kube }).ctx);
    await revokeKey(deployKey);
  } finally {
    await releaseFluxControllers();
    await session.leave();
  }
});

describe('flux step: the Ready wait when Flux does not get there', () => {
  it('fails naming the GitRepository condition when the deploy key was revoked on the git host', async () => {
    await revokeKey(deployKey);
    // A new commit, so source-controller really has to fetch.
    await pushAsOperator(
      env,
      { [`clusters/${name}/notes.md`]: `revoked ${Date.now()}\n` },
      'a commit Flux cannot fetch',
    );
    const message = await failsQuickly('revoked key');
    // source-controller's own words: the ssh server refused the key.
    expect(message).toMatch(
      /GitRepository flux-system\/flux-system: .*Ready=False \(GitOperationFailed: failed to checkout and determine revision: .*ssh: handshake failed: ssh: unable to authenticate/,
    );
    await authorizeKey(deployKey, { readOnly: true });
    await succeeds();
  });

  it('fails with kustomize-controller message when a manifest in the fleet repo is broken', async () => {
    const broken = `clusters/${name}/broken.yaml`;
    await pushAsOperator(
      env,
      { [broken]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  namespace: default\ndata: [1, 2]\n' },
      'a broken manifest',
    );
    const message = await failsQuickly('broken manifest');
    // kustomize-controller's own words: the API server's dry run refused the object.
    expect(message).toMatch(
      /Kustomization flux-system\/flux-system: .*Ready=False \(ReconciliationFailed: ConfigMap\/default\/broken dry-run failed: .*\.data: expected map/,
    );
    const ks = (await fluxStatus(kube)).ks;
    expect(ks?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False' });
    // Fixed in git, the next run is Ready again.
    await pushAsOperator(
      env,
      { [broken]: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  namespace: default\n' },
      'fixed',
    );
    await succeeds();
  });

  it('fails at once on a suspended Kustomization', async () => {
    await kube.patch(ksRef!, { spec: { suspend: true } });
    try {
      expect(await failsQuickly('suspended')).toContain('Kustomization flux-system/flux-system: suspended');
    } finally {
      await kube.patch(ksRef!, { spec: { suspend: null } });
    }
  });

  it('times out naming each object and every controller Deployment that never became available', async () => {
    // As when no node can take the controllers' pods: every node cordoned, the pods replaced and left Pending by
    // the real scheduler, so the lab runs no controller (flux-host.ts runs one only for a Running pod).
    const nodes = (await kube.list('v1', 'Node')).map((n) => n.metadata.name);
    try {
      for (const node of nodes)
        await kube.patch({ apiVersion: 'v1', kind: 'Node', name: node }, { spec: { unschedulable: true } });
      for (const pod of await kube.list('v1', 'Pod', { namespace: 'flux-system' }))
        await kube.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'flux-system', name: pod.metadata.name });
      await pushAsOperator(env, { [`clusters/${name}/notes.md`]: `unanswered ${Date.now()}\n` }, 'nobody fetches this');
      const short = labCluster(env, name, { flux: { ...cluster.flux, timeout: '5s' } });
      const started = Date.now();
      const err = await step.apply(fluxContext(short, { kube }).ctx).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
      expect(err?.message).toContain(`Flux was not ready at main@sha1:${await fleetHead(env)} within 5s`);
      expect(err?.message).toMatch(
        /GitRepository flux-system\/flux-system: reconcile requested at \S+, not handled yet/,
      );
      expect(err?.message).toMatch(
        /Kustomization flux-system\/flux-system: reconcile requested at \S+, not handled yet/,
      );
      expect(err?.message).toContain(
        'controller Deployments never became available: helm-controller, kustomize-controller, notification-controller, source-controller',
      );
    } finally {
      for (const node of nodes)
        await kube.patch({ apiVersion: 'v1', kind: 'Node', name: node }, { spec: { unschedulable: null } });
    }
  });
});
