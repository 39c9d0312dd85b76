/**
 * Step flux against the lab when Flux does NOT become Ready: a failed, stalled or suspended object stops the
 * wait at once with its own message; silence runs into the timeout, which names each object with its
 * conditions and every controller Deployment that never became available.
 *
 * PRETEND CONTROLLER: no Flux controller runs in the lab (no kubelet), so these tests use
 * test/lab/pretend-controller.ts to write the failure statuses kustomize-controller would write (and, for
 * the setup, the Ready status at the pushed commit). The timeout test writes nothing: nothing answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncRefs } from '../../src/flux/wait.js';
import { createFluxStep } from '../../steps/flux.js';
import { lab } from '../lab/env.js';
import { PretendController } from '../lab/pretend-controller.js';
import {
  actAsFlux,
  FLUX_INSTALL,
  fleetHead,
  fluxContext,
  fluxLabSession,
  KS_FLUX,
  labCluster,
  labKube,
  uniqueName,
} from './helpers/flux-context.js';

const env = lab();
const kube = await labKube(env);
const pretend = PretendController.forLab(env);
const step = createFluxStep({ pollMs: 100 });
const name = uniqueName('fluxfail');
const cluster = labCluster(env, name);
const [, ksRef] = syncRefs();
const session = fluxLabSession(env, 'platctl-flux-fail-');

/**
 * Runs apply with a 10 min Flux timeout and returns its error message. Failing at all (within the test's own
 * timeout) and not with the timeout's message shows the wait stopped on the object's status, not the clock.
 */
async function failsQuickly(what: string): Promise<string> {
  const patient = labCluster(env, name, { flux: { manifests: FLUX_INSTALL, timeout: '10m' } });
  const err = await step.apply(fluxContext(patient, { kube }).ctx).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, what).toBeInstanceOf(Error);
  expect(err?.message, what).not.toContain('within 10m');
  return err?.message ?? '';
}

beforeAll(async () => {
  await session.enter(kube);
  // A first, successful apply: Flux installed, fleet files pushed, Ready at the push.
  const flux = actAsFlux(env, kube, pretend, `clusters/${name}`);
  await step.apply(fluxContext(cluster, { kube }).ctx);
  await flux;
});
afterAll(async () => {
  try {
    // Leave the lab as we found it: no Flux.
    await step.destroy(fluxContext(cluster, { kube }).ctx);
  } finally {
    await session.leave();
  }
});

describe('flux step: the Ready wait when Flux does not get there', () => {
  it('fails early with the message of a failed Kustomization (Ready=False)', async () => {
    await pretend.setFluxReady(KS_FLUX, {
      ready: false,
      reason: 'BuildFailed',
      message: 'kustomize build failed: boom',
    });
    const message = await failsQuickly('Ready=False');
    expect(message).toContain(
      'Kustomization flux-system/flux-system: Ready=False (BuildFailed: kustomize build failed: boom)',
    );
  });

  it('fails early with the message of a stalled Kustomization', async () => {
    const now = new Date().toISOString();
    const stalled = {
      type: 'Stalled',
      status: 'True',
      reason: 'InvalidPath',
      message: 'path not found: ./x',
      lastTransitionTime: now,
    };
    await pretend.setFluxReady(KS_FLUX, { ready: false, extra: { conditions: [stalled] } });
    expect(await failsQuickly('Stalled')).toContain('Stalled=True (InvalidPath: path not found: ./x)');
  });

  it('fails early on a suspended Kustomization', async () => {
    await pretend.setFluxReady(KS_FLUX, { revision: `main@sha1:${await fleetHead(env)}` });
    await kube.patch(ksRef!, { spec: { suspend: true } });
    expect(await failsQuickly('suspended')).toContain('Kustomization flux-system/flux-system: suspended');
    await kube.patch(ksRef!, { spec: { suspend: null } });
  });

  it('times out naming each object with its conditions and every controller that never became available', async () => {
    await kube.delete(ksRef!);
    const short = labCluster(env, name, { flux: { manifests: FLUX_INSTALL, timeout: '2s' } });
    const started = Date.now();
    const err = await step.apply(fluxContext(short, { kube }).ctx).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(err?.message).toContain('within 2s');
    expect(err?.message).toContain('Kustomization flux-system/flux-system: no status yet');
    expect(err?.message).toContain('GitRepository flux-system/flux-system: Ready=True');
    expect(err?.message).toContain(
      'controller Deployments never became available: helm-controller, kustomize-controller, notification-controller, source-controller',
    );
  });
});
