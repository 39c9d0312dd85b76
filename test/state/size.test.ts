/**
 * The state must fit comfortably in its ConfigMap (hard limit 1 MiB; budget 256 KiB): a full platform with
 * 100 tenants' records, every step's outputs and a full history.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/clients/kube.js';
import { ConfigMapStore, STATE_CONFIGMAP, SYSTEM_NAMESPACE } from '../../src/state/configmap.js';
import { JournalStore, journalPath } from '../../src/state/journal.js';
import { emptyState, HISTORY_LIMIT, type State } from '../../src/state/types.js';
import { createFakeKube } from '../helpers/fake-kube.js';
import { useTempHome } from '../helpers/temp-home.js';
import { fakeSteps, runSteps } from '../helpers/test-steps.js';

const BUDGET = 256 * 1024;
useTempHome();

/** A realistic state: 12 steps with outputs, 100 tenants with their records, a full history. */
function bigState(): State {
  const s = emptyState('prod-eu-platform-01');
  s.location = 'cluster';
  const at = '2025-06-01T12:34:56.789Z';
  const by = 'firstname.lastname@build-agent-0042.internal.example.com';
  const steps = [
    'preflight',
    'kms',
    'iam',
    'network',
    'cluster',
    'access',
    'flux',
    'istio',
    'vault',
    'vault-init',
    'tenants',
    'verify',
  ];
  for (const id of steps) {
    s.steps[id] = {
      status: 'done',
      startedAt: at,
      finishedAt: at,
      inputsHash: '0123456789abcdef',
      by,
      outputs: {
        arn: `arn:aws:iam::123456789012:role/platctl-prod-eu-platform-01-${id}-0123456789abcdef`,
        id: `${id}-0a1b2c3d4e5f67890`,
        endpoint: 'https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-central-1.eks.amazonaws.com',
        subnets: Array.from({ length: 6 }, (_, i) => `subnet-0a1b2c3d4e5f6789${i}`),
      },
    };
  }
  const tenants: State['records'][string] = {};
  for (let i = 0; i < 100; i++) {
    const name = `team-${String(i).padStart(3, '0')}-payments-service`;
    tenants[name] = {
      namespaces: [`${name}`, `${name}-staging`, `${name}-jobs`],
      repo: `ssh://git@github.com/example-org/${name}-deploy.git`,
      branch: 'main',
      path: './clusters/prod-eu-platform-01',
      role: 'admin',
      kustomization: `flux-system/tenant-${name}`,
      serviceAccount: `${name}/flux-reconciler`,
      hosts: [`${name}.apps.example.com`, `api.${name}.apps.example.com`],
      quotaCpu: '64',
      quotaMemory: '256Gi',
      quotaPods: 500,
      vaultRole: `tenant-${name}`,
      vaultPolicy: `tenant-${name}-read`,
      createdAt: at,
      by,
    };
  }
  s.records.tenants = tenants;
  for (let i = 0; i < HISTORY_LIMIT; i++) {
    s.history.push({
      at,
      step: steps[i % steps.length]!,
      action: 'apply',
      result: i % 10 === 0 ? 'failed' : 'done',
      by,
      ms: 123456,
      ...(i % 10 === 0
        ? { error: 'failed to create IAM role x: ThrottlingException: Rate exceeded (request id 0a1b2c3d-4e5f)' }
        : {}),
    });
  }
  return s;
}

describe('state size', () => {
  it('100 tenants, 12 steps and a full history fit the 256 KiB budget in the ConfigMap and the journal', async () => {
    const state = bigState();
    const kube = createFakeKube();
    await new ConfigMapStore(kube, state.cluster).write(state);
    const cm = kube.peek<KubeObject & { data: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: SYSTEM_NAMESPACE,
      name: STATE_CONFIGMAP,
    });
    const inCluster = Buffer.byteLength(cm?.data['state.json'] ?? '');
    expect(inCluster).toBeGreaterThan(50 * 1024); // the fixture really is big
    expect(inCluster).toBeLessThan(BUDGET);
    await new JournalStore(state.cluster).write(state);
    expect(Buffer.byteLength(readFileSync(journalPath(state.cluster)))).toBeLessThan(BUDGET);
  });
});

/*
 * regression (state-error-size): the runner stores a failing step's error line in the step record and in history
 * without a length cap; one long single-line error (an AWS message quoting a policy document, a JSON body)
 * repeated over runs pushes the state past the ConfigMap budget.
 */
describe('regression (state-error-size): recorded errors are capped', () => {
  it('40 failed runs with an 8 KiB one-line error keep the state under budget', async () => {
    const { steps } = fakeSteps(['a']);
    steps[0]!.applyError = new Error(`MalformedPolicyDocument: ${'{"Effect":"Allow","Action":"s3:*"},'.repeat(230)}`);
    for (let i = 0; i < 40; i++) await runSteps('bootstrap', steps);
    const size = Buffer.byteLength(readFileSync(journalPath('demo')));
    expect(size).toBeLessThan(BUDGET);
  });
});
