/**
 * The `vars` step against an in-memory cluster, driven by the real runner: it writes flux-system/platform-vars
 * from the recorded outputs, a re-run reads it once and writes nothing, a changed output (a role recreated with
 * a new ARN) rewrites it, is reported as applied and asks the Kustomizations that read it to reconcile, keys
 * someone else added are dropped, and teardown deletes it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { PLATFORM_VARS_REF, varsStep } from '../../steps/vars.js';
import { createFakeKube, type FakeKube } from '../helpers/fake-kube.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { useTempHome } from '../helpers/temp-home.js';
import { type FakeStep, fakeStep, recorder, runSteps } from '../helpers/test-steps.js';

useTempHome();
const ARN = 'arn:aws:iam::123456789012:role/eks-cert-manager-demo';
const NEW_ARN = 'arn:aws:iam::123456789012:role/platctl/demo/eks-cert-manager-demo';
type ConfigMap = KubeObject & { data?: Record<string, string> };
const KS_REF = {
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  namespace: 'flux-system',
  name: 'flux-system',
};

let kube: FakeKube;
let iam: FakeStep;
const run = (command: 'bootstrap' | 'teardown' = 'bootstrap') =>
  runSteps(command, [iam, varsStep], { kube, log: memoryLogger() });
const writes = () => kube.calls.filter((c) => !['get', 'list'].includes(c.verb));
const stepOf = (r: Awaited<ReturnType<typeof run>>, id: string) => r.steps.find((s) => s.id === id);

/** Plays kustomize-controller: a reconcile request on a Kustomization is handled at once, Ready as `ready`. */
function playKustomizeController(ready: 'True' | 'False' = 'True') {
  kube.beforeWrite = (verb, ref) => {
    if (verb !== 'patch' || ref.kind !== 'Kustomization') return;
    setTimeout(() => {
      const ks = kube.peek(ref);
      const at = ks?.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
      const reason = ready === 'True' ? 'ReconciliationSucceeded' : 'BuildFailed';
      if (ks && at)
        kube.seed({
          ...ks,
          status: { lastHandledReconcileAt: at, conditions: [{ type: 'Ready', status: ready, reason, message: 'm' }] },
        });
    }, 5);
  };
}

beforeEach(() => {
  kube = createFakeKube();
  iam = fakeStep(recorder(), 'iam', { applyOutputs: { certManagerRoleArn: ARN } });
});

describe('the vars step', () => {
  it('writes the variables, then a re-run reads the ConfigMap once and writes nothing', async () => {
    const first = await run();
    expect(stepOf(first, 'vars')?.result).toBe('applied');
    const cm = kube.peek<ConfigMap>(PLATFORM_VARS_REF);
    expect(cm?.data).toMatchObject({ cluster_name: 'demo', aws_region: 'us-east-1', cert_manager_iam_role_arn: ARN });
    expect(cm?.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('platctl');
    expect(kube.peek({ apiVersion: 'v1', kind: 'Namespace', name: 'flux-system' })).toBeDefined();
    expect(stepOf(first, 'vars')?.outputs).toEqual({
      configMap: 'flux-system/platform-vars',
      count: Object.keys(cm?.data ?? {}).length,
    });

    kube.calls.length = 0;
    const again = await run();
    expect(stepOf(again, 'vars')?.result).toBe('up-to-date');
    expect(kube.calls.map((c) => `${c.verb} ${c.key}`)).toEqual(['get v1|ConfigMap|flux-system|platform-vars']);
  });

  it('follows a changed output: rewrites the ConfigMap, reports it, and has Flux reconcile its readers', async () => {
    await run();
    playKustomizeController();
    kube.seed({
      ...KS_REF,
      metadata: { name: 'flux-system', namespace: 'flux-system' },
      spec: { postBuild: { substituteFrom: [{ kind: 'ConfigMap', name: 'platform-vars' }] } },
    });
    kube.seed({ ...KS_REF, metadata: { name: 'other', namespace: 'flux-system' }, spec: {} });
    // The role is recreated under platctl's path: a new ARN.
    iam.forceStatus = 'drift';
    iam.applyOutputs = { certManagerRoleArn: NEW_ARN };
    kube.calls.length = 0;
    const r = await run();
    expect(stepOf(r, 'vars')?.result).toBe('applied');
    expect(stepOf(r, 'vars')?.detail).toBe(
      `ConfigMap flux-system/platform-vars: ~ cert_manager_iam_role_arn: ${ARN} → ${NEW_ARN}`,
    );
    expect(kube.peek<ConfigMap>(PLATFORM_VARS_REF)?.data?.cert_manager_iam_role_arn).toBe(NEW_ARN);
    const requested = (name: string) =>
      kube.peek({ ...KS_REF, name })?.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
    expect(requested('flux-system')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(requested('other')).toBeUndefined();
  });

  it('owns the whole ConfigMap: a key someone added is drift and goes', async () => {
    await run();
    const cm = kube.peek<ConfigMap>(PLATFORM_VARS_REF)!;
    kube.seed({ ...cm, data: { ...cm.data, hand_made: 'x' } });
    const r = await run();
    expect(stepOf(r, 'vars')).toMatchObject({
      result: 'applied',
      detail: 'ConfigMap flux-system/platform-vars: - hand_made',
    });
    expect(kube.peek<ConfigMap>(PLATFORM_VARS_REF)?.data).not.toHaveProperty('hand_made');
  });

  it('puts back a deleted ConfigMap, and teardown removes it', async () => {
    await run();
    await kube.delete(PLATFORM_VARS_REF);
    expect(stepOf(await run(), 'vars')?.result).toBe('applied');
    expect(kube.peek(PLATFORM_VARS_REF)).toBeDefined();
    kube.calls.length = 0;
    const down = await run('teardown');
    expect(stepOf(down, 'vars')?.result).toBe('destroyed');
    expect(kube.peek(PLATFORM_VARS_REF)).toBeUndefined();
    expect(writes().map((c) => c.verb)).toEqual(['delete']);
  });

  it('in a dry run says what it would write and writes nothing', async () => {
    const r = await runSteps('bootstrap', [iam, varsStep], { kube, dryRun: true });
    expect(stepOf(r, 'vars')).toMatchObject({
      result: 'would-apply',
      changes: ['+ ConfigMap flux-system/platform-vars'],
    });
    expect(writes()).toEqual([]);
  });
});
